"""The LIC Toolkit from Python: code NumPy images with a pipeline or a learned
model through the embedding library (lic.h, liblicembed.so).

    import numpy as np, lic
    with lic.Codec(model="models/mine") as codec:      # or descriptor=..., or neither: the built-in classical pipeline
        data = codec.encode(image)                       # uint8 array (H, W), (H, W, 3) or (H, W, 4) -> bytes
        restored = codec.decode(data)                    # -> uint8 array of the same shape

The library is found through $LIC_EMBED_LIBRARY, pkg-config ("lic"), the
usual install prefixes, or beside a `lic` executable on PATH.
"""
from __future__ import annotations

import ctypes
import os
import threading
from typing import Optional, Union

import numpy as np

from . import _library
from ._library import LibraryNotFound

__all__ = ["Codec", "LICError", "LibraryNotFound", "library_version"]

_lib: Optional[ctypes.CDLL] = None
_lib_lock = threading.Lock()


def _library_handle() -> ctypes.CDLL:
    global _lib
    with _lib_lock:
        if _lib is None:
            _lib = _library.load()
        return _lib


class LICError(Exception):
    """A call into the library failed; `code` is lic.h's LIC_EMBED_ERROR_* value and
    the message is the library's one-line reason."""

    ARGUMENT, PIPELINE, DATA, INTERNAL = 1, 2, 3, 4

    def __init__(self, code: int, message: str):
        super().__init__(message)
        self.code = code


def library_version() -> str:
    """The embedding library's version string."""
    return _library_handle().lic_version().decode()


PathLike = Union[str, "os.PathLike[str]"]


class Codec:
    """One codec: a learned model directory (`model`: its model.toml and
    weights.safetensors), a weightless pipeline descriptor (`descriptor`), or the
    built-in classical pipeline (neither).

    Thread safety: lic.h allows one thread at a time per context; each Codec has
    its own context and a lock, so one Codec may be shared by threads (calls run
    one after another) and different Codecs run in parallel."""

    def __init__(self, model: Optional[PathLike] = None, descriptor: Optional[PathLike] = None,
                 quality: Optional[float] = None):
        if model is not None and descriptor is not None:
            raise ValueError("give a model directory or a descriptor, not both")
        self._lib = _library_handle()
        self._lock = threading.Lock()
        self._context = self._lib.lic_context_create()
        if not self._context:
            raise MemoryError("lic_context_create failed")
        self._codec = ctypes.c_void_p()
        if model is not None:
            base = os.fspath(model)
            paths = (os.path.join(base, "model.toml").encode(), os.path.join(base, "weights.safetensors").encode())
        else:
            paths = (os.fsencode(descriptor) if descriptor is not None else None, None)
        status = self._lib.lic_codec_open(self._context, paths[0], paths[1], ctypes.byref(self._codec))
        if status != 0:
            error = self._error(status)
            self._lib.lic_context_destroy(self._context)
            self._context = None
            raise error
        self._quality = 0.0
        if quality is not None:
            try:
                self._set_quality(float(quality))
            except LICError:
                self.close()
                raise
            self._quality = float(quality)

    def _set_quality(self, quality: float) -> None:
        status = self._lib.lic_codec_set_quality(self._codec, quality)
        if status != 0:
            raise self._error(status)

    def _error(self, status: int) -> LICError:
        return LICError(status, self._lib.lic_context_error(self._context).decode(errors="replace"))

    def _check_open(self) -> None:
        if self._context is None:
            raise ValueError("the codec is closed")

    def encode(self, image: np.ndarray, quality: Optional[float] = None) -> bytes:
        """Codes a uint8 image of shape (H, W), (H, W, 1), (H, W, 3) or (H, W, 4) into .lic bytes.
        `quality` (a variable-rate model's, 1 smallest ... 8 best) overrides the codec's for this call."""
        if not isinstance(image, np.ndarray):
            raise TypeError(f"expected a numpy.ndarray, got {type(image).__name__}")
        if image.dtype != np.uint8:
            raise TypeError(f"expected dtype uint8, got {image.dtype}")
        if image.ndim == 2:
            height, width, channels = image.shape[0], image.shape[1], 1
        elif image.ndim == 3 and image.shape[2] in (1, 3, 4):
            height, width, channels = image.shape
        else:
            raise ValueError(f"expected shape (H, W), (H, W, 1), (H, W, 3) or (H, W, 4), got {image.shape}")
        pixels = np.ascontiguousarray(image)
        out, size = ctypes.POINTER(ctypes.c_uint8)(), ctypes.c_size_t()
        with self._lock:
            self._check_open()
            if quality is not None:
                self._set_quality(float(quality))
            try:
                status = self._lib.lic_encode(self._codec, pixels.ctypes.data_as(ctypes.POINTER(ctypes.c_uint8)), width,
                                              height, channels, ctypes.byref(out), ctypes.byref(size))
            finally:
                if quality is not None:
                    self._set_quality(self._quality)
            if status != 0:
                raise self._error(status)
        try:
            return ctypes.string_at(out, size.value)
        finally:
            self._lib.lic_free(out)

    def decode(self, data: Union[bytes, bytearray, memoryview]) -> np.ndarray:
        """Decodes .lic bytes coded by this codec's model: a uint8 array (H, W) for
        one channel, else (H, W, C)."""
        buffer = bytes(data)
        source = (ctypes.c_uint8 * max(len(buffer), 1)).from_buffer_copy(buffer or b"\0")
        out = ctypes.POINTER(ctypes.c_uint8)()
        width, height, channels = ctypes.c_uint32(), ctypes.c_uint32(), ctypes.c_uint32()
        with self._lock:
            self._check_open()
            status = self._lib.lic_decode(self._codec, source, len(buffer), ctypes.byref(out), ctypes.byref(width),
                                          ctypes.byref(height), ctypes.byref(channels))
            if status != 0:
                raise self._error(status)
        try:
            count = width.value * height.value * channels.value
            pixels = np.frombuffer(ctypes.string_at(out, count), dtype=np.uint8).copy()
        finally:
            self._lib.lic_free(out)
        shape = (height.value, width.value) if channels.value == 1 else (height.value, width.value, channels.value)
        return pixels.reshape(shape)

    def close(self) -> None:
        """Releases the codec and its context (also on `with` exit and garbage collection)."""
        with self._lock:
            if self._context is not None:
                if self._codec:
                    self._lib.lic_codec_close(self._codec)
                self._lib.lic_context_destroy(self._context)
                self._context, self._codec = None, ctypes.c_void_p()

    def __enter__(self) -> "Codec":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __del__(self) -> None:
        if getattr(self, "_context", None) is not None:
            self.close()
