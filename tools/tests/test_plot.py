"""The SVG plot: valid XML, a line per codec and panel, the legend labels."""
import xml.etree.ElementTree as ElementTree

from rdreport.plot import legend_corner, nice_axis, render_svg, tick_label

SVG = "{http://www.w3.org/2000/svg}"


def point(bpp, psnr, ms_ssim_db, label):
    return {"bpp": bpp, "psnr": psnr, "ms_ssim_db": ms_ssim_db, "label": label}


def curves():
    return [
        {"name": "LIC", "kind": "lic", "codec": "lic",
         "points": [point(0.15, 28.0, 11.0, "Q=1"), point(0.4, 31.0, 14.0, "Q=2"), point(0.9, 34.5, 17.0, "Q=3")]},
        {"name": "JPEG", "kind": "anchor", "codec": "jpeg",
         "points": [point(0.3, 26.0, 9.5, "q=10"), point(0.8, 30.0, 12.5, "q=50"), point(1.9, 35.0, 16.0, "q=90")]},
        {"name": "WebP & co", "kind": "anchor", "codec": "webp",
         "points": [point(0.2, 27.0, 10.0, "q=0"), point(1.0, 32.0, 14.5, "q=75")]},
    ]


def test_svg_parses_and_has_a_line_per_codec_and_panel():
    root = ElementTree.fromstring(render_svg(curves(), "Rate-distortion <test>", "subtitle"))
    assert root.tag == SVG + "svg"
    panels = root.findall(f"{SVG}g[@class='panel']")
    assert [panel.get("id") for panel in panels] == ["panel-psnr", "panel-ms_ssim_db"]
    for panel in panels:
        lines = panel.findall(f".//{SVG}polyline[@class='curve']")
        assert len(lines) == 3
        codecs = [group.get("data-codec") for group in panel.findall(f".//{SVG}g[@class='codec']")]
        assert codecs == ["LIC", "JPEG", "WebP & co"]
        labels = [label.text for label in panel.findall(f".//{SVG}text[@class='legend-label']")]
        assert labels == ["LIC", "JPEG", "WebP & co"]
        texts = [element.text for element in panel.iter(f"{SVG}text")]
        assert "Rate (bits per pixel)" in texts
    first_line = panels[0].find(f".//{SVG}polyline").get("points").split()
    assert len(first_line) == 3
    assert "Rate-distortion <test>" in [element.text for element in root.iter(f"{SVG}text")]


def test_panel_without_data_is_left_out():
    data = curves()
    for curve in data:
        for p in curve["points"]:
            p["ms_ssim_db"] = None
    root = ElementTree.fromstring(render_svg(data, "t"))
    assert [panel.get("id") for panel in root.findall(f"{SVG}g[@class='panel']")] == ["panel-psnr"]


def test_single_point_curve_still_drawn():
    data = curves()
    data[0]["points"] = data[0]["points"][:1]
    root = ElementTree.fromstring(render_svg(data, "t"))
    panel = root.find(f"{SVG}g[@id='panel-psnr']")
    assert len(panel.findall(f".//{SVG}polyline[@class='curve']")) == 3


def test_axis_ticks_are_round_numbers():
    lo, hi, ticks = nice_axis(24.3, 38.9, 7)
    assert (lo, hi) == (24.0, 40.0) and ticks[1] - ticks[0] == 2.0
    lo, hi, ticks = nice_axis(0.12, 1.93, 6, include_zero=True)
    assert (lo, hi, ticks) == (0.0, 2.0, [0.0, 0.5, 1.0, 1.5, 2.0])
    assert tick_label(0.75, 0.25) == "0.75" and tick_label(7.5, 2.5) == "7.5" and tick_label(30.0, 2.0) == "30"


def test_legend_avoids_the_lines():
    area = (0.0, 0.0, 500.0, 400.0)   # left, top, width, height (y grows downwards)
    size = (120.0, 60.0)
    empty_lower_right = [[(10.0, 390.0), (250.0, 100.0), (490.0, 10.0)]]
    assert legend_corner(size, area, empty_lower_right) == (500 - 120 - 12, 400 - 60 - 12)
    through_lower_right = [[(10.0, 390.0), (200.0, 380.0), (490.0, 370.0)]]
    assert legend_corner(size, area, through_lower_right) == (12, 12)
