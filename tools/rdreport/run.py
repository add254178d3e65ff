"""One report run: the LIC curves through `lic eval`, the anchor curves through
Pillow and `lic metrics`, the Bjontegaard comparisons, then the three files."""
from __future__ import annotations

import datetime
import os
import shutil
import tempfile
from dataclasses import dataclass, field
from typing import List, Optional

import numpy
import PIL

from . import anchors as anchor_codecs
from .comparisons import compare_all
from .images import SourceImage, build_working_set
from .lic import Lic, require_all
from .plot import write_svg
from .points import anchor_images, lic_images, make_point
from .progress import Progress
from .report import METHOD, machine_info, write_json, write_markdown


@dataclass
class LicRun:
    model: Optional[str]       # None: lic's shipped default model
    quality: Optional[float]   # None: the model's own (fixed) rate (or lic's default quality)
    label: str


@dataclass
class LicCurvePlan:
    name: str
    runs: List[LicRun] = field(default_factory=list)
    settings: str = ""


def model_name(model: Optional[str]) -> str:
    return "default model" if model is None else os.path.basename(os.path.normpath(model))


def plan_lic_curves(models: List[str], qualities: List[float], threads: Optional[int]) -> List[LicCurvePlan]:
    """With qualities: one curve per model (or lic's default model). Without
    (--qualities ""): one curve whose points are the models, each run once at
    its own rate (fixed-rate models)."""
    thread_text = f" --threads {threads}" if threads else ""
    if not qualities:
        plan = LicCurvePlan("LIC", settings=(f"lic eval [--model DIR]{thread_text}, once per model at its own rate: "
                                             + ", ".join(model or "lic's default model" for model in models or [None])))
        plan.runs = [LicRun(model, None, model_name(model)) for model in (models or [None])]
        return [plan]
    plans = []
    for model in models or [None]:
        name = "LIC" if model is None else f"LIC {model_name(model)}"
        where = f"--model {model}" if model else "lic's default model"
        plan = LicCurvePlan(name, settings=f"lic eval --quality Q{thread_text}, {where}, "
                                           f"Q in {','.join(map(str, qualities))}")
        plan.runs = [LicRun(model, quality, f"Q={quality}") for quality in qualities]
        plans.append(plan)
    names = [plan.name for plan in plans]
    if len(set(names)) != len(names):   # two models with one folder name: use the paths
        for plan, model in zip(plans, models):
            plan.name = f"LIC {model}"
    return plans


def run_lic_curve(lic: Lic, plan: LicCurvePlan, work_dir: str, scratch: str, images: List[SourceImage],
                  threads: Optional[int], progress: Progress) -> dict:
    points = []
    for index, run in enumerate(plan.runs):
        progress.line(f"[{plan.name} {run.label}] lic eval on {len(images)} images")
        json_path = os.path.join(scratch, f"lic-{len(os.listdir(scratch))}.json")
        result = lic.eval(work_dir, json_path, quality=run.quality, model=run.model, threads=threads)
        per_image = lic_images(result)
        require_all({image["name"]: image for image in per_image}, [image.name for image in images],
                    f"lic eval --json {json_path}")
        point = make_point(per_image, label=run.label, quality=run.quality,
                           model=run.model, lic_mean=result.get("mean"))
        points.append(point)
        progress.line(point_summary(plan.name, point))
    return {"name": plan.name, "kind": "lic", "codec": "lic", "settings": plan.settings, "points": points}


def run_anchor_curve(lic: Lic, anchor: anchor_codecs.Anchor, qualities: List[int], images: List[SourceImage],
                     work_dir: str, scratch: str, threads: int, progress: Progress) -> dict:
    points = []
    for quality in qualities:
        tag = f"[{anchor.label} q={quality}]"
        decoded_dir = os.path.join(scratch, f"{anchor.name}-q{quality}")
        coded = anchor_codecs.code_point(
            anchor, quality, images, decoded_dir, threads,
            lambda done, name: progress.detail(f"{tag} {done}/{len(images)} {name}"))
        progress.detail(f"{tag} lic metrics")
        metrics = lic.metrics(work_dir, decoded_dir)
        require_all(metrics, [image.name for image in images], f"lic metrics {work_dir} {decoded_dir}")
        shutil.rmtree(decoded_dir)
        point = make_point(anchor_images(coded, metrics), label=f"q={quality}", quality=quality)
        points.append(point)
        progress.line(point_summary(anchor.label, point))
    return {"name": anchor.label, "kind": "anchor", "codec": anchor.name,
            "settings": anchor.settings(threads), "qualities": qualities, "points": points}


def point_summary(name: str, point: dict) -> str:
    def show(value, digits, unit):
        return "n/a" if value is None else f"{value:.{digits}f}{unit}"
    return (f"  {name} {point['label']}: {show(point['bpp'], 4, ' bpp')}, PSNR {show(point['psnr'], 2, ' dB')}, "
            f"MS-SSIM {show(point['ms_ssim'], 4, '')}, enc {show(point['encode_ms'], 1, ' ms')}, "
            f"dec {show(point['decode_ms'], 1, ' ms')}")


@dataclass
class Options:
    data_dir: str
    out_dir: str
    names: List[str]
    models: List[str]
    qualities: List[float]
    anchors: List[anchor_codecs.Anchor]
    anchor_qualities: dict
    threads: Optional[int]
    argv: List[str]


def anchor_threads(threads: Optional[int]) -> int:
    """Threads for the AVIF encoder: --threads, else the CPUs this process may use."""
    if threads:
        return threads
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 1


def run_report(lic: Lic, options: Options, progress: Progress) -> dict:
    """Codes everything, writes rd.json, rd.md and rd.svg into options.out_dir; returns the report."""
    os.makedirs(options.out_dir, exist_ok=True)
    threads = anchor_threads(options.threads)
    with tempfile.TemporaryDirectory(prefix="rd-report-") as scratch:
        work_dir = os.path.join(scratch, "images")
        images = build_working_set(options.data_dir, options.names, work_dir)
        lic_scratch = os.path.join(scratch, "lic-json")
        os.makedirs(lic_scratch)
        lic.log = progress.detail   # lic eval's per-image lines
        version = lic.version()
        progress.line(f"{len(images)} image{'s' if len(images) != 1 else ''} from {options.data_dir}; lic {version} at {lic.path}")
        curves = [run_lic_curve(lic, plan, work_dir, lic_scratch, images, options.threads, progress)
                  for plan in plan_lic_curves(options.models, options.qualities, options.threads)]
        for anchor in options.anchors:
            curves.append(run_anchor_curve(lic, anchor, options.anchor_qualities[anchor.name], images,
                                           work_dir, scratch, threads, progress))
    progress.done()
    report = {
        "tool": "tools/rd_report.py",
        "created": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "invocation": options.argv,
        "data": {"dir": os.path.abspath(options.data_dir),
                 "images": [{"name": image.name, "width": image.width, "height": image.height,
                             "converted_from": image.converted_from} for image in images]},
        "method": METHOD,
        "settings": {"threads": options.threads, "avif_max_threads": threads,
                     "codecs": {curve["name"]: curve["settings"] for curve in curves}},
        "machine": machine_info(),
        "versions": dict({"lic": version, "lic_path": lic.path, "pillow": PIL.__version__,
                          "numpy": numpy.__version__}, **anchor_codecs.library_versions()),
        "commands": lic.commands,
        "curves": curves,
        "bd": compare_all(curves),
    }
    write_outputs(options.out_dir, report)
    return report


def write_outputs(out_dir: str, report: dict) -> None:
    write_json(os.path.join(out_dir, "rd.json"), report)
    write_markdown(os.path.join(out_dir, "rd.md"), report, "rd.svg")
    count = len(report["data"]["images"])
    folder = os.path.basename(os.path.normpath(report["data"]["dir"]))
    write_svg(os.path.join(out_dir, "rd.svg"), report["curves"],
              f"Rate-distortion, {count} image{'s' if count != 1 else ''} of {folder}",
              "mean over images; rate from the real file bytes; PSNR and MS-SSIM on 8-bit RGB, measured by lic")
