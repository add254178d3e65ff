#!/usr/bin/env python3
"""Learning curve of a `lic train` run: OUT/train.jsonl -> SVG plot, Markdown and JSON.

train.jsonl has one JSON object per logged step (step, elapsed_s, psnr, bpp,
learning_rate, and for a variable-rate model rate_level and lambda: each
logged step trained one rate level drawn at random). The records are grouped
by rate level (one group for a one-rate model or an older log without
rate_level), and each level's PSNR and bpp are smoothed with a trailing
moving average over the last --window logged points of that level.

Writes into --out:
  learning-curve.svg   training PSNR and training bpp against training time,
                       one line per rate level (faint dots: the raw points),
                       and the learning rate in a small panel below
  learning-curve.md    per rate level the smoothed PSNR and bpp at 25, 50, 75
                       and 100 % of the run's time (the level's logged point
                       nearest to that time), and total steps, hours, steps/s
  learning-curve.json  the same numbers, machine-readable

Training PSNR and bpp are measured on random training crops with noise
quantization: they are noisy and not comparable with a test set's numbers.
Standard library only (plus tools/rdreport/plot.py for the axes and text).
"""
from __future__ import annotations

import argparse
import json
import math
import os
import sys
from typing import List, Optional, Tuple
from xml.sax.saxutils import escape, quoteattr

TOOLS = os.path.dirname(os.path.abspath(__file__))
if TOOLS not in sys.path:
    sys.path.insert(0, TOOLS)

from rdreport.plot import (ANCHOR_COLOURS, plot_area, FONT, LIC_COLOURS, legend_corner, legend_size,  # noqa: E402
                           nice_axis, text, tick_label)

REQUIRED = ("step", "elapsed_s", "psnr", "bpp")
FRACTIONS = (0.25, 0.5, 0.75, 1.0)
DEFAULT_WINDOW = 8
FILES = ("learning-curve.svg", "learning-curve.md", "learning-curve.json")
# Ten distinct colours (the RD plot's, in the usual category order); level i gets LEVEL_COLOURS[i % 10].
LEVEL_COLOURS = [ANCHOR_COLOURS["jpeg"], ANCHOR_COLOURS["avif"], ANCHOR_COLOURS["webp"]] + \
    [c for c in LIC_COLOURS if c != "#7f7f7f"] + ["#7f7f7f"]
LR_COLOUR = "#888888"
MAX_RAW_MARKERS = 20000   # above this many logged points the raw dots are left out (file size)

EPILOG = """\
exit status: 0 written; 1 the log cannot be used (a bad JSON line, a missing
key, no records: the message names the file and line); 2 usage errors
(bad arguments, an unreadable LOG).

A resumed run appends to train.jsonl from its checkpoint's step, so steps
logged after the checkpoint can appear twice: a record whose step is not
above the previous one replaces the earlier records from that step on.

examples:
  python3 tools/learning_curve.py models/default/train.jsonl --out lc
  python3 tools/learning_curve.py runs/vr/train.jsonl --out lc --window 16 --title "mbt2018-mean-vr"
"""


class LogError(Exception):
    """A log that cannot be used; the message names the file (and line)."""


# --- reading ---------------------------------------------------------------

def _number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def parse_record(obj, where: str) -> dict:
    """One log line's object -> the record this tool uses; LogError names `where` (FILE:LINE)."""
    if not isinstance(obj, dict):
        raise LogError(f"{where}: expected a JSON object, found {type(obj).__name__}")
    missing = [key for key in REQUIRED if obj.get(key) is None]
    if missing:
        raise LogError(f"{where}: missing key{'s' if len(missing) > 1 else ''} {', '.join(missing)} "
                       f"(every line needs {', '.join(REQUIRED)})")
    for key in REQUIRED + ("learning_rate", "lambda"):
        value = obj.get(key)
        if value is not None and not (_number(value) and math.isfinite(value)):
            raise LogError(f"{where}: {key} is {json.dumps(value)}, not a finite number")
    if not float(obj["step"]).is_integer():
        raise LogError(f"{where}: step is {obj['step']}, not a whole number")
    level = obj.get("rate_level")
    if level is not None and not (_number(level) and float(level).is_integer() and level >= 0):
        raise LogError(f"{where}: rate_level is {json.dumps(level)}, not a level number (0, 1, ...) or null")
    optional = {key: (float(obj[key]) if obj.get(key) is not None else None) for key in ("learning_rate", "lambda")}
    return {"step": int(obj["step"]), "elapsed_s": float(obj["elapsed_s"]), "psnr": float(obj["psnr"]),
            "bpp": float(obj["bpp"]), "rate_level": None if level is None else int(level), **optional}


def read_log(path: str) -> Tuple[List[dict], int]:
    """The records of train.jsonl in step order, and how many were superseded by a
    resumed run's (see EPILOG). Blank lines are skipped. OSError when unreadable."""
    records: List[dict] = []
    superseded = 0
    with open(path, "rb") as file:
        for number, raw in enumerate(file, 1):
            where = f"{path}:{number}"
            try:
                line = raw.decode("utf-8")
            except UnicodeDecodeError as error:
                raise LogError(f"{where}: not UTF-8 text ({error.reason} at byte {error.start})") from None
            if not line.strip():
                continue
            try:
                obj = json.loads(line)
            except json.JSONDecodeError as error:
                raise LogError(f"{where}: not valid JSON ({error.msg} at column {error.colno})") from None
            record = parse_record(obj, where)
            if records and record["step"] <= records[-1]["step"]:
                kept = [r for r in records if r["step"] < record["step"]]
                superseded += len(records) - len(kept)
                records = kept
            records.append(record)
    if not records:
        raise LogError(f"{path}: no logged steps (the log is empty)")
    return records, superseded


# --- numbers ---------------------------------------------------------------

def smooth(values: List[float], window: int) -> List[float]:
    """Trailing moving average: item i is the mean of values[max(0, i - window + 1) : i + 1]."""
    out, total = [], 0.0
    for index, value in enumerate(values):
        total += value
        if index >= window:
            total -= values[index - window]
        out.append(total / min(index + 1, window))
    return out


def format_lambda(value: float) -> str:
    return f"{value:g}"


def level_label(level: Optional[int], lam: Optional[float], only: bool) -> str:
    if level is None:
        name = "one rate" if only else "no rate level"
    else:
        name = f"level {level}"
    return f"{name} (λ={format_lambda(lam)})" if lam is not None else name


def level_series(records: List[dict], window: int) -> List[dict]:
    """One series per rate level (None, the one-rate group, first), each with its own
    points in step order and their smoothed PSNR and bpp."""
    groups = {}
    for record in records:
        groups.setdefault(record["rate_level"], []).append(record)
    keys = sorted(groups, key=lambda k: (k is not None, k or 0))
    series = []
    for key in keys:
        points = groups[key]
        lambdas = [p["lambda"] for p in points if p["lambda"] is not None]
        lam = lambdas[-1] if lambdas else None
        psnr = [p["psnr"] for p in points]
        bpp = [p["bpp"] for p in points]
        series.append({
            "level": key, "lambda": lam, "label": level_label(key, lam, len(keys) == 1),
            "elapsed_s": [p["elapsed_s"] for p in points], "steps": [p["step"] for p in points],
            "psnr": psnr, "bpp": bpp, "psnr_smooth": smooth(psnr, window), "bpp_smooth": smooth(bpp, window)})
    return series


def nearest_index(times: List[float], target: float) -> int:
    """The index of the time nearest `target` (the earlier one on a tie)."""
    return min(range(len(times)), key=lambda i: (abs(times[i] - target), i))


def checkpoints(series: dict, total_s: float) -> List[dict]:
    out = []
    for fraction in FRACTIONS:
        target = fraction * total_s
        i = nearest_index(series["elapsed_s"], target)
        out.append({"fraction": fraction, "target_s": target, "step": series["steps"][i],
                    "elapsed_s": series["elapsed_s"][i], "psnr": series["psnr_smooth"][i],
                    "bpp": series["bpp_smooth"][i]})
    return out


def time_unit(total_s: float) -> Tuple[str, float, str]:
    """(name, seconds per unit, short name): hours from 2 h, minutes from 2 min, else seconds."""
    if total_s >= 2 * 3600:
        return "hours", 3600.0, "h"
    if total_s >= 120:
        return "minutes", 60.0, "min"
    return "seconds", 1.0, "s"


def format_duration(seconds: float) -> str:
    name, scale, short = time_unit(seconds)
    return f"{seconds / scale:.{2 if short == 'h' else 1}f} {short}"


def summarize(path: str, records: List[dict], superseded: int, window: int, title: str) -> dict:
    """Everything the three outputs show."""
    total_s = max(r["elapsed_s"] for r in records)
    total_steps = records[-1]["step"]
    series = level_series(records, window)
    levels = []
    for s in series:
        levels.append({"level": s["level"], "lambda": s["lambda"], "label": s["label"], "points": len(s["steps"]),
                       "at": checkpoints(s, total_s)})
    return {
        "source": path, "title": title, "window": window,
        "records": len(records), "superseded_records": superseded,
        "total_steps": total_steps, "total_seconds": total_s, "total_hours": total_s / 3600.0,
        "steps_per_second": total_steps / total_s if total_s > 0 else None,
        "time_unit": time_unit(total_s)[0], "fractions": list(FRACTIONS),
        "variable_rate": any(s["level"] is not None for s in series),
        "levels": levels,
        "learning_rate": {"first": _first_lr(records), "last": _first_lr(records[::-1]),
                          "max": max((r["learning_rate"] for r in records if r["learning_rate"] is not None),
                                     default=None)},
        "_series": series, "_records": records,
    }


def _first_lr(records):
    return next((r["learning_rate"] for r in records if r["learning_rate"] is not None), None)


# --- Markdown and JSON -----------------------------------------------------

def totals_line(summary: dict) -> str:
    rate = summary["steps_per_second"]
    rate_text = f"{rate:.3g} steps/s overall" if rate is not None else "steps/s n/a (no elapsed time)"
    return (f"Total: {summary['total_steps']} steps, {summary['total_hours']:.2f} hours "
            f"({format_duration(summary['total_seconds'])}), {rate_text}.")


def render_markdown(summary: dict) -> str:
    total = summary["total_seconds"]
    percents = [f"{int(f * 100)}%" for f in FRACTIONS]
    times = ", ".join(f"{p} = {format_duration(f * total)}" for p, f in zip(percents, FRACTIONS))
    levels = summary["levels"]
    kind = f"{len(levels)} rate levels" if summary["variable_rate"] else "one rate"
    lines = [f"# {summary['title']}", "",
             f"Source: `{summary['source']}`: {summary['records']} logged points, {kind}.",
             "",
             f"Smoothed: trailing mean over the last {summary['window']} logged points"
             + (" of each level" if summary["variable_rate"] else "") + ". "
             f"Each column is the {'level' if summary['variable_rate'] else 'run'}'s logged point nearest to that share of the run's time ({times}). "
             "Training PSNR and bpp are measured on random training crops with noise quantization: "
             "noisy, and not comparable with a test set.", ""]
    if summary["superseded_records"]:
        lines += [f"{summary['superseded_records']} records logged before a resume were replaced by the "
                  "resumed run's.", ""]
    header = ["level", "λ", "points"] + [f"PSNR {p} (dB)" for p in percents] + [f"bpp {p}" for p in percents]
    lines.append("| " + " | ".join(header) + " |")
    lines.append("| --- | ---: | ---: | " + " | ".join(["---:"] * (2 * len(FRACTIONS))) + " |")
    for level in levels:
        name = "one rate" if level["level"] is None and len(levels) == 1 else (
            "none" if level["level"] is None else str(level["level"]))
        lam = format_lambda(level["lambda"]) if level["lambda"] is not None else "-"
        cells = [name, lam, str(level["points"])]
        cells += [f"{a['psnr']:.2f}" for a in level["at"]] + [f"{a['bpp']:.4f}" for a in level["at"]]
        lines.append("| " + " | ".join(cells) + " |")
    lines += ["", totals_line(summary), ""]
    return "\n".join(lines)


def report_json(summary: dict) -> dict:
    return {key: value for key, value in summary.items() if not key.startswith("_")}


# --- SVG -------------------------------------------------------------------

PANEL_W, PANEL_H, LR_H, HEADER = 600, 430, 210, 64


def render_panel(panel_id: str, title: str, y_label: str, x_label: str, lines: List[dict],
                 box: Tuple[float, float, float, float], x_axis, include_zero: bool, legend: bool,
                 y_target: int = 7) -> List[str]:
    """A panel: `lines` are dicts with label, colour, width, points [(x, y)] and raw [(x, y)] (dots)."""
    left, top, width, height = box
    ys = [y for line in lines for _, y in line["points"]]
    lo, hi = min(ys), max(ys)
    pad = 0.03 * (hi - lo) if hi > lo else 0.05 * max(abs(hi), 1e-12)
    y0, y1, y_ticks = nice_axis(lo - (0 if include_zero else pad), hi + pad, y_target, include_zero=include_zero)
    x0, x1, x_ticks = x_axis
    plot_left, plot_top, plot_width, plot_height, sx, sy = plot_area(left, top, width, height, (x0, x1), (y0, y1))

    out = [f'<g class="panel" id="panel-{panel_id}">',
           text(plot_left + plot_width / 2, top + 22, title, 15, weight="bold"),
           f'<rect x="{plot_left:.2f}" y="{plot_top:.2f}" width="{plot_width:.2f}" height="{plot_height:.2f}" '
           f'fill="#ffffff" stroke="none"/>']
    x_step = x_ticks[1] - x_ticks[0] if len(x_ticks) > 1 else 1.0
    y_step = y_ticks[1] - y_ticks[0] if len(y_ticks) > 1 else 1.0
    out.append('<g class="grid" stroke="#e3e3e3" stroke-width="1">')
    out += [f'<line x1="{sx(t):.2f}" y1="{plot_top:.2f}" x2="{sx(t):.2f}" y2="{plot_top + plot_height:.2f}"/>'
            for t in x_ticks]
    out += [f'<line x1="{plot_left:.2f}" y1="{sy(t):.2f}" x2="{plot_left + plot_width:.2f}" y2="{sy(t):.2f}"/>'
            for t in y_ticks]
    out.append("</g>")
    out.append(f'<rect x="{plot_left:.2f}" y="{plot_top:.2f}" width="{plot_width:.2f}" height="{plot_height:.2f}" '
               f'fill="none" stroke="#444444" stroke-width="1"/>')
    out.append('<g class="ticks" stroke="#444444" stroke-width="1">')
    out += [f'<line x1="{sx(t):.2f}" y1="{plot_top + plot_height:.2f}" x2="{sx(t):.2f}" '
            f'y2="{plot_top + plot_height + 5:.2f}"/>' for t in x_ticks]
    out += [f'<line x1="{plot_left - 5:.2f}" y1="{sy(t):.2f}" x2="{plot_left:.2f}" y2="{sy(t):.2f}"/>'
            for t in y_ticks]
    out.append("</g>")
    out += [text(sx(t), plot_top + plot_height + 20, tick_label(t, x_step), 12) for t in x_ticks]
    out += [text(plot_left - 9, sy(t) + 4, tick_label(t, y_step), 12, anchor="end") for t in y_ticks]
    out.append(text(plot_left + plot_width / 2, plot_top + plot_height + 44, x_label, 13))
    label_x, label_y = left + 18, plot_top + plot_height / 2
    out.append(text(label_x, label_y, y_label, 13, extra=f' transform="rotate(-90 {label_x:.2f} {label_y:.2f})"'))
    clip = f"clip-{panel_id}"
    out.append(f'<clipPath id="{clip}"><rect x="{plot_left:.2f}" y="{plot_top:.2f}" '
               f'width="{plot_width:.2f}" height="{plot_height:.2f}"/></clipPath>')
    out.append(f'<g class="lines" clip-path="url(#{clip})">')
    raw_count = sum(len(line.get("raw", ())) for line in lines)
    if 0 < raw_count <= MAX_RAW_MARKERS:
        out.append('<g class="raw">')
        for line in lines:
            out += [f'<circle cx="{sx(x):.2f}" cy="{sy(y):.2f}" r="2" fill="{line["colour"]}" '
                    f'fill-opacity="0.4"/>' for x, y in line.get("raw", ())]
        out.append("</g>")
    for line in lines:
        points = " ".join(f"{sx(x):.2f},{sy(y):.2f}" for x, y in line["points"])
        out.append(f'<polyline class="curve" data-label={quoteattr(line["label"])} points="{points}" fill="none" '
                   f'stroke="{line["colour"]}" stroke-width="{line["width"]}" stroke-linejoin="round" '
                   f'stroke-linecap="round"><title>{escape(line["label"])}</title></polyline>')
        if len(line["points"]) == 1:   # a one-point line draws nothing: mark the point
            (x, y), = line["points"]
            out.append(f'<circle cx="{sx(x):.2f}" cy="{sy(y):.2f}" r="3" fill="{line["colour"]}"/>')
    out.append("</g>")
    if legend:
        size = legend_size([{"name": line["label"]} for line in lines])
        pixels = [[(sx(x), sy(y)) for x, y in line["points"]] for line in lines]
        corner = legend_corner(size, (plot_left, plot_top, plot_width, plot_height), pixels)
        out += render_legend(lines, corner, size)
    out.append("</g>")
    return out


def render_legend(lines: List[dict], corner, size) -> List[str]:
    left, top = corner
    width, height = size
    out = ['<g class="legend">',
           f'<rect x="{left:.2f}" y="{top:.2f}" width="{width:.2f}" height="{height:.2f}" rx="4" '
           f'fill="#ffffff" fill-opacity="0.92" stroke="#bbbbbb"/>']
    for index, line in enumerate(lines):
        y, x = top + 17 + index * 20, left + 10
        out.append(f'<line x1="{x:.2f}" y1="{y:.2f}" x2="{x + 30:.2f}" y2="{y:.2f}" stroke="{line["colour"]}" '
                   f'stroke-width="{line["width"]}"/>')
        out.append(text(x + 40, y + 4, line["label"], 12, anchor="start", extra=' class="legend-label"'))
    out.append("</g>")
    return out


def lr_exponent(largest: float) -> int:
    """The power of ten the learning-rate axis is shown in (0.00093 -> -3: ticks 0, 0.2, ... x 1e-3), 0 from 0.1 up."""
    if largest <= 0 or largest >= 0.1:
        return 0
    return math.floor(math.log10(largest))


def render_svg(summary: dict) -> str:
    """PSNR and bpp panels side by side; the learning rate in a wide, low panel below."""
    records, series = summary["_records"], summary["_series"]
    unit, scale, _ = time_unit(summary["total_seconds"])
    x_axis = nice_axis(0.0, summary["total_seconds"] / scale, 6, include_zero=True)
    x_label = f"training time ({unit})"
    lr_points = [(r["elapsed_s"] / scale, r["learning_rate"]) for r in records if r["learning_rate"] is not None]
    width = 2 * PANEL_W
    height = HEADER + PANEL_H + (LR_H if lr_points else 0)

    def lines(key):
        return [{"label": s["label"], "colour": LEVEL_COLOURS[(s["level"] or 0) % len(LEVEL_COLOURS)],
                 "width": 2.2, "points": [(t / scale, v) for t, v in zip(s["elapsed_s"], s[key + "_smooth"])],
                 "raw": [(t / scale, v) for t, v in zip(s["elapsed_s"], s[key])]} for s in series]

    rate = summary["steps_per_second"]
    subtitle = (f"{summary['total_steps']} steps in {format_duration(summary['total_seconds'])}"
                + (f" ({rate:.3g} steps/s)" if rate is not None else "")
                + (f", {len(series)} rate levels" if summary["variable_rate"] else "")
                + f"; lines: trailing mean of the last {summary['window']} logged points"
                + (" of each level" if summary["variable_rate"] else "") + ", "
                  "dots: logged values (random training crops, noisy)")
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
           f'viewBox="0 0 {width} {height}" font-family="{FONT}">',
           f"<title>{escape(summary['title'])}</title>",
           f'<rect width="{width}" height="{height}" fill="#fafafa"/>',
           text(width / 2, 28, summary["title"], 18, weight="bold"),
           text(width / 2, 50, subtitle, 12, colour="#555555")]
    out += render_panel("psnr", "Training PSNR", "PSNR (dB)", x_label, lines("psnr"),
                        (0, HEADER, PANEL_W, PANEL_H), x_axis, include_zero=False, legend=True)
    out += render_panel("bpp", "Training rate", "Rate (bits per pixel)", x_label, lines("bpp"),
                        (PANEL_W, HEADER, PANEL_W, PANEL_H), x_axis, include_zero=True, legend=False)
    if lr_points:
        exponent = lr_exponent(max(lr for _, lr in lr_points))
        lr_line = [{"label": "learning rate", "colour": LR_COLOUR, "width": 1.2,
                    "points": [(x, lr / 10.0 ** exponent) for x, lr in lr_points]}]
        lr_label = f"learning rate (×1e{exponent})" if exponent else "learning rate"
        out += render_panel("learning-rate", "Learning rate", lr_label, x_label, lr_line,
                            (0, HEADER + PANEL_H, width, LR_H), x_axis, include_zero=True, legend=False,
                            y_target=3)
    out.append("</svg>")
    return "\n".join(out) + "\n"


# --- command line ----------------------------------------------------------

def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="learning_curve.py", description=__doc__,
        epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("log", metavar="LOG", help="train.jsonl written by `lic train` (OUT/train.jsonl)")
    parser.add_argument("--out", required=True, metavar="DIR",
                        help="folder for learning-curve.svg, .md and .json (created if missing)")
    parser.add_argument("--window", type=int, default=DEFAULT_WINDOW, metavar="N",
                        help="trailing moving average over the last N logged points of each level "
                             f"(default {DEFAULT_WINDOW}; 1 = no smoothing)")
    parser.add_argument("--title", metavar="T", help="plot and report title (default: from LOG's folder name)")
    return parser


def default_title(path: str) -> str:
    folder = os.path.basename(os.path.dirname(os.path.abspath(path)))
    return f"Learning curve: {folder}" if folder else "Learning curve"


def main(argv=None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.window < 1:
        parser.error(f"--window must be at least 1 (got {args.window})")
    try:
        records, superseded = read_log(args.log)
    except OSError as error:
        parser.error(f"cannot read {args.log}: {error.strerror or error}")
    except LogError as error:
        sys.stderr.write(f"learning_curve: {error}\n")
        return 1
    summary = summarize(args.log, records, superseded, args.window, args.title or default_title(args.log))
    try:
        os.makedirs(args.out, exist_ok=True)
        paths = [os.path.join(args.out, name) for name in FILES]
        with open(paths[0], "w", encoding="utf-8") as file:
            file.write(render_svg(summary))
        with open(paths[1], "w", encoding="utf-8") as file:
            file.write(render_markdown(summary))
        with open(paths[2], "w", encoding="utf-8") as file:
            json.dump(report_json(summary), file, indent=2, ensure_ascii=False)
            file.write("\n")
    except OSError as error:
        sys.stderr.write(f"learning_curve: {error.filename or args.out}: {error.strerror or error}\n")
        return 1
    print(totals_line(summary))
    for path in paths:
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
