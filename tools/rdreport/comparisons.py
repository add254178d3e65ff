"""Which curves are compared: every LIC curve against each anchor, and each
anchor against JPEG; for each pair the BD-rate on PSNR and on MS-SSIM (dB),
and BD-PSNR / BD-MS-SSIM (dB) as extras."""
from __future__ import annotations

from typing import List

from .bd import bd_quality, bd_rate
from .points import curve_values

MEASURES = (
    # key in rd.json, function, quality key of the points
    ("bd_rate_psnr_percent", bd_rate, "psnr"),
    ("bd_rate_ms_ssim_db_percent", bd_rate, "ms_ssim_db"),
    ("bd_psnr_db", bd_quality, "psnr"),
    ("bd_ms_ssim_db", bd_quality, "ms_ssim_db"),
)


def pairs(curves: List[dict]):
    """(test, anchor) pairs in report order."""
    lic_curves = [curve for curve in curves if curve["kind"] == "lic"]
    anchors = [curve for curve in curves if curve["kind"] == "anchor"]
    for test in lic_curves:
        for anchor in anchors:
            yield test, anchor
    jpeg = next((curve for curve in anchors if curve["codec"] == "jpeg"), None)
    if jpeg is not None:
        for anchor in anchors:
            if anchor is not jpeg:
                yield anchor, jpeg


def compare(test: dict, anchor: dict) -> dict:
    entry = {"test": test["name"], "anchor": anchor["name"]}
    for key, function, quality in MEASURES:
        anchor_rates, anchor_qualities = curve_values(anchor, quality)
        test_rates, test_qualities = curve_values(test, quality)
        if not anchor_rates or not test_rates:
            entry[key] = {"value": None, "interval": None, "reason": f"no {quality} values"}
        else:
            entry[key] = function(anchor_rates, anchor_qualities, test_rates, test_qualities)
    return entry


def compare_all(curves: List[dict]) -> List[dict]:
    return [compare(test, anchor) for test, anchor in pairs(curves)]
