"""The RD plot as hand-written SVG: one panel per quality measure (PSNR, and
MS-SSIM in dB when known), quality against bpp, one coloured line with
markers per codec, a legend, ticks, grid and titles. Each marker has a
tooltip (<title>) with its exact values."""
from __future__ import annotations

import math
from typing import List, Tuple
from xml.sax.saxutils import escape, quoteattr

FONT = "DejaVu Sans, Helvetica, Arial, sans-serif"
ANCHOR_COLOURS = {"jpeg": "#1f77b4", "webp": "#2ca02c", "avif": "#ff7f0e"}
LIC_COLOURS = ["#d62728", "#9467bd", "#8c564b", "#e377c2", "#17becf", "#bcbd22", "#7f7f7f"]
ANCHOR_MARKERS = {"jpeg": "square", "webp": "triangle", "avif": "diamond"}
LIC_MARKERS = ["circle", "triangle-down"]

PANEL_WIDTH = 600
PANEL_HEIGHT = 450
MARGIN_LEFT, MARGIN_RIGHT, MARGIN_TOP, MARGIN_BOTTOM = 70, 24, 36, 58
HEADER = 64

PANELS = (("psnr", "PSNR (dB)", "PSNR vs rate"),
          ("ms_ssim_db", "MS-SSIM (dB), -10 log10(1 - MS-SSIM)", "MS-SSIM vs rate"))


def nice_step(lo: float, hi: float, target: int) -> float:
    """The step of 1, 2 or 5 times a power of ten whose whole-step range [lo, hi]
    has the number of intervals closest to `target` (the smaller step on a tie)."""
    raw = (hi - lo) / target
    power = 10.0 ** math.floor(math.log10(raw))
    candidates = [factor * power * scale for scale in (0.1, 1, 10) for factor in (1, 2, 5)]

    def intervals(step):
        return math.ceil(hi / step - 1e-9) - math.floor(lo / step + 1e-9)

    return min(candidates, key=lambda step: (abs(intervals(step) - target), step))


def nice_axis(lo: float, hi: float, target: int = 6, include_zero: bool = False) -> Tuple[float, float, List[float]]:
    """Axis range rounded out to whole steps, and the ticks."""
    if include_zero:
        lo = min(lo, 0.0)
    if hi - lo < 1e-9:
        lo, hi = lo - 0.5, hi + 0.5
    step = nice_step(lo, hi, target)
    first = math.floor(lo / step + 1e-9)
    last = math.ceil(hi / step - 1e-9)
    ticks = [round(i * step, 10) for i in range(first, last + 1)]
    return ticks[0], ticks[-1], ticks


def tick_label(value: float, step: float) -> str:
    """The value with as many decimals as the step needs (0.25 -> 2, 2.5 -> 1, 5 -> 0)."""
    decimals = next(d for d in range(8) if abs(step * 10 ** d - round(step * 10 ** d)) < 1e-6 * 10 ** d or d == 7)
    text = f"{value:.{decimals}f}"
    return "0" if text.strip("-0.") == "" else text


def curve_colour(curve: dict, lic_index: int) -> str:
    if curve["kind"] == "anchor":
        return ANCHOR_COLOURS.get(curve["codec"], "#7f7f7f")
    return LIC_COLOURS[lic_index % len(LIC_COLOURS)]


def marker(shape: str, x: float, y: float, colour: str, size: float = 4.2, tooltip: str = "") -> str:
    title = f"<title>{escape(tooltip)}</title>" if tooltip else ""
    common = f'fill="{colour}" stroke="#ffffff" stroke-width="1"'
    if shape == "circle":
        element = f'<circle cx="{x:.2f}" cy="{y:.2f}" r="{size:.2f}" {common}>'
        return element + title + "</circle>"
    if shape == "square":
        s = size * 0.9
        return f'<rect x="{x - s:.2f}" y="{y - s:.2f}" width="{2 * s:.2f}" height="{2 * s:.2f}" {common}>{title}</rect>'
    if shape == "triangle":
        s = size * 1.2
        corners = [(x, y - s), (x + s, y + s * 0.8), (x - s, y + s * 0.8)]
    elif shape == "triangle-down":
        s = size * 1.2
        corners = [(x, y + s), (x + s, y - s * 0.8), (x - s, y - s * 0.8)]
    else:  # diamond
        s = size * 1.25
        corners = [(x, y - s), (x + s, y), (x, y + s), (x - s, y)]
    points = " ".join(f"{cx:.2f},{cy:.2f}" for cx, cy in corners)
    return f'<polygon points="{points}" {common}>{title}</polygon>'


def text(x: float, y: float, content: str, size: int = 12, anchor: str = "middle",
         weight: str = "normal", colour: str = "#222222", extra: str = "") -> str:
    return (f'<text x="{x:.2f}" y="{y:.2f}" font-size="{size}" text-anchor="{anchor}" '
            f'font-weight="{weight}" fill="{colour}"{extra}>{escape(content)}</text>')


def point_tooltip(curve: dict, point: dict, key: str) -> str:
    label = point.get("label") or ""
    quality = f"{point[key]:.3f} dB" if key != "psnr" else f"{point[key]:.2f} dB"
    what = "PSNR" if key == "psnr" else "MS-SSIM"
    return f"{curve['name']} {label}: {point['bpp']:.4f} bpp, {what} {quality}".replace("  ", " ")


def panel_curves(curves: List[dict], key: str):
    """For each curve, its (bpp, value, point) list sorted by bpp."""
    result = []
    for curve in curves:
        values = sorted(((p["bpp"], p[key], p) for p in curve["points"]
                         if p.get("bpp") is not None and p.get(key) is not None), key=lambda v: v[0])
        result.append(values)
    return result


def plot_area(left: float, top: float, width: float, height: float, x_range: Tuple[float, float], y_range: Tuple[float, float]):
    """The plotting rectangle of a panel at (left, top) of the given size, inside
    the standard margins, and the maps from data to SVG coordinates:
    (plot_left, plot_top, plot_width, plot_height, sx, sy)."""
    (x0, x1), (y0, y1) = x_range, y_range
    plot_left, plot_top = left + MARGIN_LEFT, top + MARGIN_TOP
    plot_width = width - MARGIN_LEFT - MARGIN_RIGHT
    plot_height = height - MARGIN_TOP - MARGIN_BOTTOM

    def sx(value):
        return plot_left + (value - x0) / (x1 - x0) * plot_width

    def sy(value):
        return plot_top + plot_height - (value - y0) / (y1 - y0) * plot_height

    return plot_left, plot_top, plot_width, plot_height, sx, sy


def render_panel(curves: List[dict], key: str, y_label: str, title: str, left: float, top: float) -> List[str]:
    """One panel at (left, top): the plot area, axes, grid, ticks, curves and legend."""
    series = panel_curves(curves, key)
    xs = [v[0] for s in series for v in s]
    ys = [v[1] for s in series for v in s]
    x0, x1, x_ticks = nice_axis(min(xs), max(xs) * 1.03, 6, include_zero=True)
    y_pad = max(0.02 * (max(ys) - min(ys)), 0.05)
    y0, y1, y_ticks = nice_axis(min(ys) - y_pad, max(ys) + y_pad, 7)
    plot_left, plot_top, plot_width, plot_height, sx, sy = plot_area(left, top, PANEL_WIDTH, PANEL_HEIGHT, (x0, x1), (y0, y1))

    out = [f'<g class="panel" id="panel-{key}">']
    out.append(text(plot_left + plot_width / 2, top + 22, title, 15, weight="bold"))
    out.append(f'<rect x="{plot_left:.2f}" y="{plot_top:.2f}" width="{plot_width:.2f}" '
               f'height="{plot_height:.2f}" fill="#ffffff" stroke="none"/>')
    # grid and ticks
    x_step = x_ticks[1] - x_ticks[0] if len(x_ticks) > 1 else 1.0
    y_step = y_ticks[1] - y_ticks[0] if len(y_ticks) > 1 else 1.0
    out.append('<g class="grid" stroke="#e3e3e3" stroke-width="1">')
    for tick in x_ticks:
        out.append(f'<line x1="{sx(tick):.2f}" y1="{plot_top:.2f}" x2="{sx(tick):.2f}" y2="{plot_top + plot_height:.2f}"/>')
    for tick in y_ticks:
        out.append(f'<line x1="{plot_left:.2f}" y1="{sy(tick):.2f}" x2="{plot_left + plot_width:.2f}" y2="{sy(tick):.2f}"/>')
    out.append("</g>")
    out.append(f'<rect x="{plot_left:.2f}" y="{plot_top:.2f}" width="{plot_width:.2f}" height="{plot_height:.2f}" '
               f'fill="none" stroke="#444444" stroke-width="1"/>')
    out.append('<g class="ticks" stroke="#444444" stroke-width="1">')
    for tick in x_ticks:
        out.append(f'<line x1="{sx(tick):.2f}" y1="{plot_top + plot_height:.2f}" x2="{sx(tick):.2f}" y2="{plot_top + plot_height + 5:.2f}"/>')
    for tick in y_ticks:
        out.append(f'<line x1="{plot_left - 5:.2f}" y1="{sy(tick):.2f}" x2="{plot_left:.2f}" y2="{sy(tick):.2f}"/>')
    out.append("</g>")
    for tick in x_ticks:
        out.append(text(sx(tick), plot_top + plot_height + 20, tick_label(tick, x_step), 12))
    for tick in y_ticks:
        out.append(text(plot_left - 9, sy(tick) + 4, tick_label(tick, y_step), 12, anchor="end"))
    out.append(text(plot_left + plot_width / 2, plot_top + plot_height + 44, "Rate (bits per pixel)", 13))
    label_x, label_y = left + 18, plot_top + plot_height / 2
    out.append(text(label_x, label_y, y_label, 13, extra=f' transform="rotate(-90 {label_x:.2f} {label_y:.2f})"'))
    # curves
    clip = f"clip-{key}"
    out.append(f'<clipPath id="{clip}"><rect x="{plot_left - 8:.2f}" y="{plot_top - 8:.2f}" '
               f'width="{plot_width + 16:.2f}" height="{plot_height + 16:.2f}"/></clipPath>')
    out.append(f'<g class="curves" clip-path="url(#{clip})">')
    styles = curve_styles(curves)
    for curve, values, (colour, shape, width) in zip(curves, series, styles):
        if not values:
            continue
        coordinates = " ".join(f"{sx(x):.2f},{sy(y):.2f}" for x, y, _ in values)
        out.append(f'<g class="codec" data-codec={quoteattr(curve["name"])}>')
        out.append(f'<polyline class="curve" points="{coordinates}" fill="none" stroke="{colour}" '
                   f'stroke-width="{width}" stroke-linejoin="round" stroke-linecap="round"/>')
        for x, y, point in values:
            out.append(marker(shape, sx(x), sy(y), colour, tooltip=point_tooltip(curve, point, key)))
        out.append("</g>")
    out.append("</g>")
    shown = [(curve, style) for curve, style, values in zip(curves, styles, series) if values]
    pixels = [[(sx(x), sy(y)) for x, y, _ in values] for values in series]
    size = legend_size([curve for curve, _ in shown])
    corner = legend_corner(size, (plot_left, plot_top, plot_width, plot_height), pixels)
    out.extend(render_legend([c for c, _ in shown], [st for _, st in shown], corner, size))
    out.append("</g>")
    return out


def curve_styles(curves: List[dict]) -> List[Tuple[str, str, float]]:
    """(colour, marker shape, line width): LIC curves thicker than the anchors."""
    styles, lic_index = [], 0
    for curve in curves:
        if curve["kind"] == "lic":
            styles.append((curve_colour(curve, lic_index), LIC_MARKERS[lic_index % len(LIC_MARKERS)], 2.6))
            lic_index += 1
        else:
            styles.append((curve_colour(curve, 0), ANCHOR_MARKERS.get(curve["codec"], "circle"), 1.8))
    return styles


LEGEND_ROW, LEGEND_PAD, LEGEND_SAMPLE, LEGEND_INSET = 20, 10, 30, 12


def legend_size(curves: List[dict]) -> Tuple[float, float]:
    width = LEGEND_PAD * 3 + LEGEND_SAMPLE + max(7.0 * len(curve["name"]) for curve in curves)
    height = LEGEND_PAD * 2 + LEGEND_ROW * len(curves) - 6
    return width, height


def legend_corner(size: Tuple[float, float], area: Tuple[float, float, float, float],
                  lines: List[List[Tuple[float, float]]]) -> Tuple[float, float]:
    """The top-left corner of the legend: of the plot's four corners (lower right
    first, where RD curves rarely go), the one whose box covers the fewest
    samples along the drawn lines."""
    left, top, width, height = area
    box_width, box_height = size
    right = left + width - box_width - LEGEND_INSET
    bottom = top + height - box_height - LEGEND_INSET
    corners = [(right, bottom), (left + LEGEND_INSET, top + LEGEND_INSET),
               (right, top + LEGEND_INSET), (left + LEGEND_INSET, bottom)]
    samples = []
    for line in lines:
        samples.extend(line[:1])
        for (x0, y0), (x1, y1) in zip(line, line[1:]):
            samples.extend((x0 + (x1 - x0) * i / 24, y0 + (y1 - y0) * i / 24) for i in range(1, 25))

    def covered(corner):
        x, y = corner
        return sum(1 for px, py in samples
                   if x - 6 <= px <= x + box_width + 6 and y - 6 <= py <= y + box_height + 6)

    return min(corners, key=covered)   # min keeps the first of equals


def render_legend(curves: List[dict], styles, corner: Tuple[float, float], size: Tuple[float, float]) -> List[str]:
    """A boxed legend: a line and marker sample and the name of each codec."""
    left, top = corner
    width, height = size
    out = ['<g class="legend">',
           f'<rect x="{left:.2f}" y="{top:.2f}" width="{width:.2f}" height="{height:.2f}" rx="4" '
           f'fill="#ffffff" fill-opacity="0.92" stroke="#bbbbbb"/>']
    for index, (curve, (colour, shape, line_width)) in enumerate(zip(curves, styles)):
        y = top + LEGEND_PAD + 7 + index * LEGEND_ROW
        x = left + LEGEND_PAD
        out.append(f'<line x1="{x:.2f}" y1="{y:.2f}" x2="{x + LEGEND_SAMPLE:.2f}" y2="{y:.2f}" stroke="{colour}" '
                   f'stroke-width="{line_width}"/>')
        out.append(marker(shape, x + LEGEND_SAMPLE / 2, y, colour))
        out.append(text(x + LEGEND_SAMPLE + LEGEND_PAD, y + 4, curve["name"], 12, anchor="start",
                        extra=' class="legend-label"'))
    out.append("</g>")
    return out


def render_svg(curves: List[dict], title: str, subtitle: str = "") -> str:
    """The whole figure: title, then the panels that have data side by side."""
    panels = [panel for panel in PANELS if any(values for values in panel_curves(curves, panel[0]))]
    if not panels:
        panels = [PANELS[0]]
    width = PANEL_WIDTH * len(panels)
    height = HEADER + PANEL_HEIGHT
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
           f'viewBox="0 0 {width} {height}" font-family="{FONT}">',
           f"<title>{escape(title)}</title>",
           f'<rect width="{width}" height="{height}" fill="#fafafa"/>',
           text(width / 2, 28, title, 18, weight="bold")]
    if subtitle:
        out.append(text(width / 2, 50, subtitle, 12, colour="#555555"))
    for index, (key, y_label, panel_title) in enumerate(panels):
        if any(panel_curves(curves, key)):
            out.extend(render_panel(curves, key, y_label, panel_title, index * PANEL_WIDTH, HEADER))
        else:
            out.append(text(PANEL_WIDTH / 2, HEADER + PANEL_HEIGHT / 2, "no data", 14))
    out.append("</svg>")
    return "\n".join(out) + "\n"


def write_svg(path: str, curves: List[dict], title: str, subtitle: str = "") -> None:
    with open(path, "w", encoding="utf-8") as file:
        file.write(render_svg(curves, title, subtitle))
