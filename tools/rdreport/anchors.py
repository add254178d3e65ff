"""JPEG, WebP and AVIF through Pillow: each image is encoded in memory, its real
bytes give the rate, it is decoded again and written as PNG so that
`lic metrics` measures it like every other codec. Chroma is Pillow's default
4:2:0 for all three (what users of these formats get)."""
from __future__ import annotations

import io
import os
import time
from dataclasses import dataclass
from typing import Callable, Dict, List, Optional, Tuple

from PIL import Image, features

from .images import SourceImage, load_rgb

AVIF_SPEED = 6   # Pillow's default: libaom's usual trade-off, about 0.25 s per Kodak image on one core


class AnchorError(Exception):
    pass


@dataclass(frozen=True)
class Anchor:
    name: str                       # as in --anchors
    label: str                      # in tables and the plot
    pillow_format: str
    default_qualities: Tuple[int, ...]
    library: str                    # Pillow feature name for the library version

    def options(self, quality: int, threads: int) -> Dict[str, object]:
        """The keyword arguments of Image.save."""
        if self.name == "jpeg":
            return {"quality": quality, "optimize": True}
        if self.name == "webp":
            return {"quality": quality, "method": 6}
        if self.name == "avif":
            return {"quality": quality, "speed": AVIF_SPEED, "max_threads": threads}
        raise AssertionError(self.name)

    def settings(self, threads: int) -> str:
        """The settings as the report states them."""
        if self.name == "jpeg":
            return "Pillow JPEG: quality=q, optimize=True, 4:2:0 (Pillow default subsampling), baseline"
        if self.name == "webp":
            return "Pillow WebP (lossy): quality=q, method=6, 4:2:0 (WebP lossy is always 4:2:0)"
        return (f"Pillow AVIF: quality=q, speed={AVIF_SPEED}, subsampling=4:2:0 (default), "
                f"range=full, max_threads={threads}, codec=auto")


# Defaults span about 0.1-2 bpp on Kodak (768x512 photographs).
ANCHORS: Dict[str, Anchor] = {
    "jpeg": Anchor("jpeg", "JPEG", "JPEG", (5, 10, 15, 20, 30, 40, 50, 60, 70, 85), "jpg"),
    "webp": Anchor("webp", "WebP", "WEBP", (0, 5, 10, 20, 30, 40, 50, 60, 75, 85), "webp"),
    "avif": Anchor("avif", "AVIF", "AVIF", (0, 10, 20, 30, 40, 50, 60, 70, 80), "avif"),
}


@dataclass
class Coded:
    data: bytes
    encode_ms: float
    decode_ms: float
    decoded: Image.Image


def code_image(anchor: Anchor, image: Image.Image, quality: int, threads: int) -> Coded:
    """Encodes in memory, decodes the bytes again; times both (ms)."""
    buffer = io.BytesIO()
    start = time.perf_counter()
    image.save(buffer, anchor.pillow_format, **anchor.options(quality, threads))
    encode_ms = (time.perf_counter() - start) * 1000
    data = buffer.getvalue()
    start = time.perf_counter()
    decoded = Image.open(io.BytesIO(data))   # in memory: nothing to close
    decoded.load()
    if decoded.mode != "RGB":
        decoded = decoded.convert("RGB")
    decode_ms = (time.perf_counter() - start) * 1000
    return Coded(data, encode_ms, decode_ms, decoded)


def code_point(anchor: Anchor, quality: int, images: List[SourceImage], decoded_dir: str,
               threads: int, progress: Optional[Callable[[int, str], None]] = None) -> List[dict]:
    """Codes every image at one quality; writes the decoded images as PNG into
    decoded_dir (same file names); returns per-image rate and timings."""
    os.makedirs(decoded_dir, exist_ok=True)
    if images:   # untimed warm-up: the first call of a codec pays for its set-up
        code_image(anchor, load_rgb(images[0]), quality, threads)
    results = []
    for done, source in enumerate(images, 1):
        rgb = load_rgb(source)
        try:
            coded = code_image(anchor, rgb, quality, threads)
        except (OSError, ValueError) as error:
            raise AnchorError(f"{source.path}: {anchor.label} quality {quality} failed: {error}") from error
        if coded.decoded.size != rgb.size:
            raise AnchorError(f"{source.path}: {anchor.label} decoded {coded.decoded.size[0]}x"
                              f"{coded.decoded.size[1]}, expected {rgb.size[0]}x{rgb.size[1]}")
        coded.decoded.save(os.path.join(decoded_dir, source.name), "PNG", compress_level=1)
        results.append({
            "name": source.name,
            "bytes": len(coded.data),
            "bpp": 8 * len(coded.data) / source.pixels,
            "encode_ms": coded.encode_ms,
            "decode_ms": coded.decode_ms,
        })
        if progress:
            progress(done, source.name)
    return results


def library_versions() -> Dict[str, Optional[str]]:
    """Versions of the libraries behind Pillow's codecs."""
    versions = {"libjpeg (API)": features.version("jpg"), "libwebp": features.version("webp"),
                "libavif": features.version("avif")}
    versions["libjpeg-turbo"] = features.check_feature("libjpeg_turbo") and features.version_feature("libjpeg_turbo")
    try:
        from PIL import _avif   # private; reports the AV1 encoder and decoder libavif uses
        versions["avif_codecs"] = _avif.codec_versions()
    except (ImportError, AttributeError):
        pass
    return {key: (value or None) for key, value in versions.items()}


def parse_anchor_names(text: str) -> List[Anchor]:
    names = [name.strip().lower() for name in text.split(",") if name.strip()]
    unknown = [name for name in names if name not in ANCHORS]
    if unknown:
        raise ValueError(f"unknown anchor {', '.join(unknown)} (known: {', '.join(ANCHORS)})")
    return [ANCHORS[name] for name in dict.fromkeys(names)]
