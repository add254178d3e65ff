"""rd.json (everything: points, per-image values, settings, machine, commands,
versions) and rd.md (a table per codec, then the Bjontegaard table)."""
from __future__ import annotations

import json
import os
import platform
import shlex
from typing import List, Optional

METHOD = {
    "rate": "bits per pixel from the real bytes of each coded image, 8 * bytes / (width * height)",
    "psnr": "PSNR on 8-bit RGB (one MSE over all samples of the three channels, peak 255), per image",
    "ms_ssim": ("MS-SSIM on 8-bit RGB (pytorch_msssim's definition, mean over channels), per image; "
                "null for images under 161 px on a side"),
    "measured_by": ("lic: `lic eval` for the LIC curves, `lic metrics REFERENCE DECODED` on the decoded "
                    "PNGs for the anchors, so one implementation measures every codec"),
    "averaging": ("arithmetic mean over images of bpp, PSNR (dB), MS-SSIM and times "
                  "(PSNR averaged in dB per image, the field's usual way, not the PSNR of the mean MSE); "
                  "MS-SSIM (dB) = -10 log10(1 - mean MS-SSIM)"),
    "times": ("mean milliseconds per image on this machine; LIC: lic eval's encode and decode seconds; "
              "anchors: Pillow's save into memory and open+load of those bytes, timed separately"),
    "bd": ("Bjontegaard delta: log10(bpp) as a function of quality (PSNR or MS-SSIM dB), each curve "
           "interpolated by PCHIP (Fritsch-Carlson monotone slopes), integrated exactly over the "
           "quality interval both curves cover; BD-rate = 10^(mean difference) - 1 in percent "
           "(negative: fewer bits than the anchor at equal quality). BD-PSNR / BD-MS-SSIM: quality "
           "as a function of log10(bpp), mean difference in dB over the shared rate interval "
           "(positive: better than the anchor at equal rate)"),
}


METHOD_TITLES = (("rate", "Rate"), ("psnr", "PSNR"), ("ms_ssim", "MS-SSIM"), ("measured_by", "Measured by"),
                 ("averaging", "Averaging"), ("times", "Times"))


def cpu_model() -> Optional[str]:
    """The CPU model from /proc/cpuinfo (model name, or what ARM kernels print instead)."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as file:
            lines = file.read().splitlines()
    except OSError:
        return platform.processor() or None
    for key in ("model name", "Model", "Hardware", "cpu model", "Processor"):
        for line in lines:
            name, _, value = line.partition(":")
            if name.strip() == key and value.strip():
                return value.strip()
    return platform.processor() or None


def machine_info() -> dict:
    return {
        "platform": platform.platform(),
        "cpu": cpu_model(),
        "logical_cpus": os.cpu_count(),
        "python": platform.python_version(),
    }


def write_json(path: str, report: dict) -> None:
    with open(path, "w", encoding="utf-8") as file:
        json.dump(report, file, indent=1, allow_nan=False)
        file.write("\n")


def number(value: Optional[float], digits: int) -> str:
    return "n/a" if value is None else f"{value:.{digits}f}"


def codec_table(curve: dict) -> List[str]:
    """Quality (or, for fixed-rate models, the model), bpp, PSNR, MS-SSIM, times."""
    by_quality = all(point.get("quality") is not None for point in curve["points"])
    lines = [f"| {'quality' if by_quality else 'model'} | bpp | PSNR (dB) | MS-SSIM | MS-SSIM (dB) | enc ms | dec ms |",
             "| ---: | ---: | ---: | ---: | ---: | ---: | ---: |" if by_quality else
             "| --- | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for point in curve["points"]:
        first = point["quality"] if by_quality else point["label"]
        lines.append(f"| {first} | {number(point['bpp'], 4)} | {number(point['psnr'], 2)} | "
                     f"{number(point['ms_ssim'], 4)} | {number(point['ms_ssim_db'], 2)} | "
                     f"{number(point['encode_ms'], 1)} | {number(point['decode_ms'], 1)} |")
    return lines


BD_COLUMNS = (("bd_rate_psnr_percent", "BD-rate (PSNR)", " %", 2),
              ("bd_rate_ms_ssim_db_percent", "BD-rate (MS-SSIM dB)", " %", 2),
              ("bd_psnr_db", "BD-PSNR (dB)", "", 3),
              ("bd_ms_ssim_db", "BD-MS-SSIM (dB)", "", 3))


def bd_table(entries: List[dict]) -> List[str]:
    """The Bjontegaard table, values unavailable marked n/a with numbered reasons below."""
    lines = ["| test | anchor | " + " | ".join(title for _, title, _, _ in BD_COLUMNS) + " |",
             "| --- | --- |" + " ---: |" * len(BD_COLUMNS)]
    reasons: List[str] = []
    for entry in entries:
        cells = []
        for key, _, unit, digits in BD_COLUMNS:
            result = entry[key]
            if result["value"] is None:
                reason = result["reason"]
                if reason not in reasons:
                    reasons.append(reason)
                cells.append(f"n/a ({reasons.index(reason) + 1})")
            else:
                cells.append(f"{result['value']:+.{digits}f}{unit}")
        lines.append(f"| {entry['test']} | {entry['anchor']} | " + " | ".join(cells) + " |")
    if reasons:
        lines.append("")
        lines.extend(f"({index}) {reason}" for index, reason in enumerate(reasons, 1))
    return lines


def render_markdown(report: dict, svg_name: str = "rd.svg") -> str:
    data, versions, machine = report["data"], report["versions"], report["machine"]
    sizes = sorted({f"{image['width']}x{image['height']}" for image in data["images"]})
    lines = ["# Rate-distortion report", "",
             f"- Data: {len(data['images'])} images from `{data['dir']}` ({', '.join(sizes)})",
             f"- Created: {report['created']}",
             f"- Machine: {machine['cpu'] or 'unknown CPU'}, {machine['logical_cpus']} logical CPUs, "
             f"{machine['platform']}",
             f"- Versions: lic {versions['lic']}, Pillow {versions['pillow']}, "
             f"libjpeg-turbo {versions.get('libjpeg-turbo') or 'n/a'}, libwebp {versions.get('libwebp') or 'n/a'}, "
             f"libavif {versions.get('libavif') or 'n/a'} ({versions.get('avif_codecs') or 'codecs unknown'})"]
    if report.get("invocation"):
        lines.append(f"- Command: `python3 {shlex.join(report['invocation'])}`")
    lines += ["", f"![PSNR and MS-SSIM against bits per pixel]({svg_name})", "", "## Method", ""]
    method = report["method"]
    for key, title in METHOD_TITLES:
        lines.append(f"- {title}: {method[key]}.")
    converted = [image for image in data["images"] if image.get("converted_from")]
    if converted:
        lines.append("- Converted to 8-bit RGB before coding (all codecs code the same pixels): "
                     + ", ".join(f"{image['name']} ({image['converted_from']})" for image in converted) + ".")
    lines += ["", "## Settings", ""]
    for curve in report["curves"]:
        lines.append(f"- {curve['name']}: {curve['settings']}")
    for curve in report["curves"]:
        lines += ["", f"## {curve['name']}", ""] + codec_table(curve)
    lines += ["", "## Bjontegaard deltas", "", method["bd"] + ".", ""] + bd_table(report["bd"])
    return "\n".join(lines) + "\n"


def write_markdown(path: str, report: dict, svg_name: str = "rd.svg") -> None:
    with open(path, "w", encoding="utf-8") as file:
        file.write(render_markdown(report, svg_name))
