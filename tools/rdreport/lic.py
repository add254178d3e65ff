"""The lic binary: where it is, `lic eval` (the LIC side), `lic metrics` (PSNR
and MS-SSIM for the anchors, so that one implementation measures every codec)
and `lic --version`. Every command run is recorded for rd.json."""
from __future__ import annotations

import json
import os
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
from typing import Callable, Dict, List, Optional


class LicError(Exception):
    pass


def find_lic(explicit: Optional[str], repo_root: str) -> str:
    """--lic, else $LIC_BIN, else REPO/.build/release/lic, else lic on PATH."""
    if explicit:
        candidates, origin = [explicit], "--lic"
    elif os.environ.get("LIC_BIN"):
        candidates, origin = [os.environ["LIC_BIN"]], "LIC_BIN"
    else:
        candidates, origin = [os.path.join(repo_root, ".build", "release", "lic")], None
    for candidate in candidates:
        if os.path.isfile(candidate) and os.access(candidate, os.X_OK):
            return os.path.abspath(candidate)
    if origin:
        raise LicError(f"{candidates[0]} (from {origin}): not an executable file")
    on_path = shutil.which("lic")
    if on_path:
        return on_path
    raise LicError(f"no lic binary: not at {candidates[0]} nor on PATH; build it with "
                   "`swift build -c release`, or pass --lic PATH (or set LIC_BIN)")


class Lic:
    """Runs one lic binary; keeps the commands it ran (argv, seconds, exit status)."""

    def __init__(self, path: str, log: Callable[[str], None] = lambda line: None):
        self.path = path
        self.log = log
        self.commands: List[dict] = []

    def _run(self, arguments: List[str], forward_stdout: bool) -> str:
        """Runs lic; stdout is returned (or, with forward_stdout, shown as progress);
        a non-zero exit raises LicError with lic's message and the command."""
        argv = [self.path] + arguments
        start = time.perf_counter()
        with tempfile.TemporaryFile(mode="w+") as stderr:
            try:
                process = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=stderr, text=True)
            except OSError as error:
                raise LicError(f"{self.path}: cannot run: {error}") from error
            lines = []
            for line in process.stdout:
                lines.append(line)
                if forward_stdout:
                    self.log("    lic: " + line.rstrip("\n"))
            status = process.wait()
            stderr.seek(0)
            message = stderr.read().strip()
        seconds = time.perf_counter() - start
        self.commands.append({"argv": argv, "seconds": round(seconds, 3), "exit_status": status})
        if status != 0:
            last = message.splitlines()[-1] if message else "(no message on stderr)"
            raise LicError(f"{last}\n  command (exit status {status}): {shlex.join(argv)}")
        return "".join(lines)

    def version(self) -> str:
        return self._run(["--version"], forward_stdout=False).strip()

    def eval(self, data_dir: str, json_path: str, quality: Optional[float] = None,
             model: Optional[str] = None, threads: Optional[int] = None) -> dict:
        """`lic eval`: per-image bpp (real bytes), PSNR, MS-SSIM, encode_s, decode_s."""
        arguments = ["eval", "--data", data_dir, "--json", json_path]
        if quality is not None:
            arguments += ["--quality", str(quality)]
        if model is not None:
            arguments += ["--model", model]
        if threads is not None:
            arguments += ["--threads", str(threads)]
        self._run(arguments, forward_stdout=True)
        try:
            with open(json_path) as file:
                result = json.load(file)
        except (OSError, ValueError) as error:
            raise LicError(f"{json_path}: cannot read lic eval's JSON: {error}") from error
        if not isinstance(result, dict) or not isinstance(result.get("images"), list):
            raise LicError(f"{json_path}: lic eval's JSON has no \"images\" list")
        return result

    def metrics(self, reference_dir: str, decoded_dir: str) -> Dict[str, dict]:
        """`lic metrics REF DEC`: {image name: {"psnr", "ms_ssim"}} (the "mean" line left out)."""
        output = self._run(["metrics", reference_dir, decoded_dir], forward_stdout=False)
        results = {}
        for number, line in enumerate(output.splitlines(), 1):
            line = line.strip()
            if not line:
                continue
            try:
                record = json.loads(line)
                name = record["name"]
            except (ValueError, KeyError, TypeError) as error:
                raise LicError(f"lic metrics {decoded_dir}: line {number} is not a JSON object "
                               f"with a name: {line[:200]}") from error
            if name != "mean":
                results[name] = record
        return results


def require_all(results: Dict[str, dict], names: List[str], where: str) -> None:
    missing = [name for name in names if name not in results]
    if missing:
        raise LicError(f"{where}: no result for {', '.join(missing)}")


def print_to_stderr(line: str) -> None:
    print(line, file=sys.stderr, flush=True)
