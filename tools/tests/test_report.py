"""Means, MS-SSIM in dB, the Markdown tables."""
import math

import pytest

from rdreport.comparisons import compare_all
from rdreport.points import make_point, mean, ms_ssim_db
from rdreport.report import bd_table, codec_table, cpu_model, render_markdown


def test_means_and_missing_values():
    assert mean([1.0, 2.0, 4.5]) == pytest.approx(2.5)
    assert mean([1.0, None]) is None
    assert mean([]) is None
    assert ms_ssim_db(0.99) == pytest.approx(20.0)
    assert ms_ssim_db(None) is None
    assert math.isfinite(ms_ssim_db(1.0))


def test_point_averages_over_images():
    images = [{"name": "a.png", "bpp": 0.5, "psnr": 30.0, "ms_ssim": 0.98, "encode_ms": 2.0, "decode_ms": 1.0},
              {"name": "b.png", "bpp": 1.5, "psnr": 34.0, "ms_ssim": 0.99, "encode_ms": 4.0, "decode_ms": 3.0}]
    point = make_point(images, label="q=50", quality=50)
    assert (point["bpp"], point["psnr"], point["encode_ms"], point["decode_ms"]) == (1.0, 32.0, 3.0, 2.0)
    assert point["ms_ssim"] == pytest.approx(0.985)
    assert point["ms_ssim_db"] == pytest.approx(-10 * math.log10(0.015))
    assert point["images"] is images and point["label"] == "q=50"


def curve(name, kind, codec, scale):
    points = [make_point([{"name": "a.png", "bpp": scale * rate, "psnr": psnr, "ms_ssim": 1 - 10 ** (-psnr / 25),
                           "encode_ms": 1.0, "decode_ms": 1.0}], label=f"q={index}", quality=index)
              for index, (rate, psnr) in enumerate([(0.2, 27.0), (0.5, 30.0), (1.0, 33.0), (2.0, 36.0)])]
    return {"name": name, "kind": kind, "codec": codec, "settings": "s", "points": points}


def test_comparisons_and_bd_table():
    curves = [curve("LIC", "lic", "lic", 0.5), curve("JPEG", "anchor", "jpeg", 1.0),
              curve("AVIF", "anchor", "avif", 0.6)]
    entries = compare_all(curves)
    assert [(e["test"], e["anchor"]) for e in entries] == [("LIC", "JPEG"), ("LIC", "AVIF"), ("AVIF", "JPEG")]
    assert entries[0]["bd_rate_psnr_percent"]["value"] == pytest.approx(-50.0)
    assert entries[2]["bd_rate_ms_ssim_db_percent"]["value"] == pytest.approx(-40.0)
    table = bd_table(entries)
    assert table[2] == "| LIC | JPEG | -50.00 % | -50.00 % | +" + table[2].split("+", 1)[1]
    curves[0]["points"] = curves[0]["points"][:1]
    table = bd_table(compare_all(curves))
    assert "n/a (1)" in table[2] and table[-1] == "(1) test needs at least 2 rate points, has 1"


def test_codec_table_by_quality_or_model():
    by_quality = codec_table(curve("JPEG", "anchor", "jpeg", 1.0))
    assert by_quality[0].startswith("| quality |") and by_quality[2].startswith("| 0 | 0.2000 | 27.00 |")
    fixed = curve("LIC", "lic", "lic", 1.0)
    for point in fixed["points"]:
        point["quality"], point["label"] = None, "model-" + point["label"]
    assert codec_table(fixed)[0].startswith("| model |") and codec_table(fixed)[2].startswith("| model-q=0 |")


def test_markdown_has_the_sections():
    curves = [curve("LIC", "lic", "lic", 0.5), curve("JPEG", "anchor", "jpeg", 1.0)]
    report = {"created": "now", "invocation": ["tools/rd_report.py", "--data", "d d"],
              "data": {"dir": "/data", "images": [{"name": "a.png", "width": 96, "height": 64,
                                                    "converted_from": "L"}]},
              "machine": {"cpu": "CPU", "logical_cpus": 2, "platform": "Linux"},
              "versions": {"lic": "0.1.0", "pillow": "13.0"}, "method": __import__("rdreport.report").report.METHOD,
              "curves": curves, "bd": compare_all(curves)}
    markdown = render_markdown(report)
    for expected in ("# Rate-distortion report", "`python3 tools/rd_report.py --data 'd d'`", "![", "## Method",
                     "a.png (L)", "## Settings", "## LIC", "## JPEG", "## Bjontegaard deltas", "| LIC | JPEG |"):
        assert expected in markdown


def test_cpu_model_is_a_string_or_none():
    model = cpu_model()
    assert model is None or (isinstance(model, str) and model)
