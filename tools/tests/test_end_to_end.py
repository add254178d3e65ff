"""The tool with a real lic (from $LIC_BUILD_DIR, as CI sets it): the repository's
tiny fixed-rate model on two small images, two qualities per anchor."""
import json
import subprocess
import sys
import xml.etree.ElementTree as ElementTree

import pytest
from PIL import features

from conftest import REPO, TOOLS, lic_build_binary, write_gradients

LIC, WHY_NOT = lic_build_binary()
pytestmark = pytest.mark.skipif(LIC is None, reason=f"needs a built lic: {WHY_NOT}")

MODEL = REPO / "Tests" / "LICCoreTests" / "Fixtures" / "models" / "mbt2018-mean-16x32"


def test_whole_tool_with_the_fixture_model(tmp_path):
    data = write_gradients(tmp_path / "images", 2, 96, 64)   # the model needs 64 px a side at least
    out = tmp_path / "out"
    anchors = ["jpeg", "webp"] + (["avif"] if features.check("avif") else [])
    command = [sys.executable, str(TOOLS / "rd_report.py"), "--data", str(data), "--out", str(out),
               "--lic", str(LIC), "--model", str(MODEL), "--qualities", "", "--threads", "1",
               "--anchors", ",".join(anchors), "--jpeg-qualities", "30,80", "--webp-qualities", "30,80",
               "--avif-qualities", "30,80"]
    result = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    for name in ("rd.json", "rd.md", "rd.svg"):
        assert (out / name).is_file()
    report = json.loads((out / "rd.json").read_text())
    assert [curve["name"] for curve in report["curves"]] == ["LIC", "JPEG", "WebP", "AVIF"][:1 + len(anchors)]
    for curve in report["curves"]:
        assert len(curve["points"]) == (1 if curve["kind"] == "lic" else 2)
        for point in curve["points"]:
            assert point["bpp"] > 0 and point["psnr"] > 10, (curve["name"], point)
            assert point["ms_ssim"] is None     # under 161 px
            assert [image["name"] for image in point["images"]] == ["img0.png", "img1.png"]
            assert point["encode_ms"] > 0 and point["decode_ms"] > 0
    anchors = report["curves"][1:]
    for curve in anchors:   # higher quality, more bits and more PSNR
        low, high = curve["points"]
        assert high["bpp"] > low["bpp"] and high["psnr"] > low["psnr"]
    lic_vs = {(entry["test"], entry["anchor"]): entry for entry in report["bd"]}
    assert lic_vs[("LIC", "JPEG")]["bd_rate_psnr_percent"]["reason"] == "test needs at least 2 rate points, has 1"
    webp = lic_vs[("WebP", "JPEG")]["bd_rate_psnr_percent"]
    assert webp.keys() == {"value", "interval", "reason"}
    assert webp["value"] is not None or "overlap" in webp["reason"]
    assert report["versions"]["lic"].split()[0][0].isdigit()
    assert any(command["argv"][1] == "metrics" for command in report["commands"])
    assert "## Bjontegaard deltas" in (out / "rd.md").read_text()
    ElementTree.parse(out / "rd.svg")
