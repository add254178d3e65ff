"""Finding and loading liblicembed.so, and its C signatures (lic.h)."""
from __future__ import annotations

import ctypes
import os
import shutil
import subprocess
import sys
from pathlib import Path

LIBRARY_NAME = "liblicembed.so"


class LibraryNotFound(ImportError):
    """liblicembed.so is not where the package looked (the message says where)."""


def _candidates() -> list[Path]:
    """Where to look, in order: $LIC_EMBED_LIBRARY (the file), pkg-config's
    libdir for "lic", the interpreter's and the usual install prefixes,
    beside a `lic` executable on PATH, and the build directories of a
    checkout in the current directory (.build/release, .build/debug)."""
    found: list[Path] = []
    explicit = os.environ.get("LIC_EMBED_LIBRARY")
    if explicit:
        return [Path(explicit)]
    if shutil.which("pkg-config"):
        try:
            libdir = subprocess.run(["pkg-config", "--variable=libdir", "lic"], capture_output=True, text=True,
                                    check=False).stdout.strip()
            if libdir:
                found.append(Path(libdir) / LIBRARY_NAME)
        except OSError:
            pass
    for prefix in (sys.prefix, "/usr/local", "/usr", "/opt/lic"):
        found.append(Path(prefix) / "lib" / LIBRARY_NAME)
    executable = shutil.which("lic")
    if executable:
        found.append(Path(executable).resolve().parent / LIBRARY_NAME)
    for build in ("release", "debug"):
        found.append(Path.cwd() / ".build" / build / LIBRARY_NAME)
    return found


def load() -> ctypes.CDLL:
    tried = _candidates()
    for path in tried:
        if path.is_file():
            return _declare(ctypes.CDLL(str(path)))
    raise LibraryNotFound(
        f"{LIBRARY_NAME} not found; tried: {', '.join(str(p) for p in tried)}. Build the toolkit "
        "(swift build -c release) and set LIC_EMBED_LIBRARY to .build/release/liblicembed.so, or install it with "
        "tools/install.sh PREFIX and make PREFIX/lib/pkgconfig visible to pkg-config.")


def _declare(lib: ctypes.CDLL) -> ctypes.CDLL:
    p, u8p = ctypes.c_void_p, ctypes.POINTER(ctypes.c_uint8)
    lib.lic_version.restype = ctypes.c_char_p
    lib.lic_context_create.restype = p
    lib.lic_context_destroy.argtypes = [p]
    lib.lic_context_error.restype = ctypes.c_char_p
    lib.lic_context_error.argtypes = [p]
    lib.lic_codec_open.restype = ctypes.c_int
    lib.lic_codec_open.argtypes = [p, ctypes.c_char_p, ctypes.c_char_p, ctypes.POINTER(p)]
    lib.lic_codec_close.argtypes = [p]
    lib.lic_codec_set_quality.restype = ctypes.c_int
    lib.lic_codec_set_quality.argtypes = [p, ctypes.c_double]
    lib.lic_encode.restype = ctypes.c_int
    lib.lic_encode.argtypes = [p, u8p, ctypes.c_uint32, ctypes.c_uint32, ctypes.c_uint32, ctypes.POINTER(u8p),
                               ctypes.POINTER(ctypes.c_size_t)]
    lib.lic_decode.restype = ctypes.c_int
    lib.lic_decode.argtypes = [p, u8p, ctypes.c_size_t, ctypes.POINTER(u8p), ctypes.POINTER(ctypes.c_uint32),
                               ctypes.POINTER(ctypes.c_uint32), ctypes.POINTER(ctypes.c_uint32)]
    lib.lic_free.argtypes = [p]
    return lib
