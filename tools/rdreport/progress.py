"""Progress on stderr: lines that stay (a point finished) and details (an image
done) that overwrite each other on a terminal and are printed as lines otherwise."""
from __future__ import annotations

import shutil
import sys
from typing import TextIO


class Progress:
    def __init__(self, stream: TextIO = sys.stderr, quiet: bool = False):
        self.stream = stream
        self.quiet = quiet
        self.interactive = hasattr(stream, "isatty") and stream.isatty()
        self._pending = 0   # length of the detail line on screen

    def _clear(self) -> None:
        if self._pending:
            self.stream.write("\r" + " " * self._pending + "\r")
            self._pending = 0

    def line(self, message: str) -> None:
        if self.quiet:
            return
        self._clear()
        self.stream.write(message + "\n")
        self.stream.flush()

    def detail(self, message: str) -> None:
        if self.quiet:
            return
        if self.interactive:
            self._clear()
            shown = message[:max(20, shutil.get_terminal_size().columns - 1)]   # one line, or \r cannot clear it
            self.stream.write(shown)
            self._pending = len(shown)
        else:
            self.stream.write(message + "\n")
        self.stream.flush()

    def done(self) -> None:
        self._clear()
