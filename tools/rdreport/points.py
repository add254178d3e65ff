"""Per-image results -> one rate point. The same averaging for every codec:
arithmetic means over images of bpp, PSNR (dB), MS-SSIM, encode and decode ms;
MS-SSIM in dB is -10 log10(1 - mean MS-SSIM)."""
from __future__ import annotations

import math
from typing import Dict, Iterable, List, Optional

AVERAGED = ("bpp", "psnr", "ms_ssim", "encode_ms", "decode_ms")


def finite_or_none(value) -> Optional[float]:
    if value is None:
        return None
    value = float(value)
    return value if math.isfinite(value) else None


def mean(values: Iterable[Optional[float]]) -> Optional[float]:
    """Mean, or None when a value is missing (e.g. MS-SSIM of a small image)."""
    values = list(values)
    if not values or any(value is None for value in values):
        return None
    return sum(values) / len(values)


def ms_ssim_db(ms_ssim: Optional[float]) -> Optional[float]:
    if ms_ssim is None:
        return None
    return -10 * math.log10(max(1 - ms_ssim, 1e-12))


def make_point(images: List[dict], **labels) -> dict:
    """A rate point from per-image records (keys of AVERAGED, plus name and extras)."""
    point = dict(labels)
    for key in AVERAGED:
        point[key] = mean(finite_or_none(image.get(key)) for image in images)
    point["ms_ssim_db"] = ms_ssim_db(point["ms_ssim"])
    point["images"] = images
    return point


def lic_images(result: dict) -> List[dict]:
    """Per-image records of `lic eval --json` with times in ms."""
    images = []
    for image in result["images"]:
        images.append({
            "name": image.get("name"),
            "bpp": finite_or_none(image.get("bpp")),
            "bpp_estimated": finite_or_none(image.get("bpp_estimated")),
            "psnr": finite_or_none(image.get("psnr")),
            "ms_ssim": finite_or_none(image.get("ms_ssim")),
            "encode_ms": None if image.get("encode_s") is None else 1000 * image["encode_s"],
            "decode_ms": None if image.get("decode_s") is None else 1000 * image["decode_s"],
        })
    return images


def anchor_images(coded: List[dict], metrics: Dict[str, dict]) -> List[dict]:
    """Anchor rate and timings joined with `lic metrics` PSNR / MS-SSIM by file name."""
    images = []
    for record in coded:
        measured = metrics[record["name"]]
        image = dict(record)
        image["psnr"] = finite_or_none(measured.get("psnr"))
        image["ms_ssim"] = finite_or_none(measured.get("ms_ssim"))
        images.append(image)
    return images


def curve_values(curve: dict, key: str):
    """(bpp list, quality list) of the points where both are known."""
    pairs = [(point["bpp"], point[key]) for point in curve["points"]
             if point.get("bpp") is not None and point.get(key) is not None]
    return [pair[0] for pair in pairs], [pair[1] for pair in pairs]
