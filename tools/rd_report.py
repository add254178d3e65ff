#!/usr/bin/env python3
"""Rate-distortion report: LIC against JPEG, WebP and AVIF on a folder of PNGs.

Every PNG of --data (sorted by name; --limit N takes the first N) is coded
  - by LIC: `lic eval --data DIR --quality Q --json FILE [--model DIR]` for
    each quality Q of --qualities (bpp from the real .lic bytes; PSNR,
    MS-SSIM, encode and decode time as lic eval measures them);
  - by each anchor (Pillow, in memory, at each of its qualities): JPEG
    (quality=q, optimize=True, 4:2:0), WebP (quality=q, method=6), AVIF
    (quality=q, speed=6, 4:2:0); bpp from the real bytes, encode and decode
    timed separately; the decoded images are measured by
    `lic metrics REFERENCE_DIR DECODED_DIR`, so one implementation computes
    PSNR and MS-SSIM for every codec.
Per point: mean bpp, PSNR (dB, 8-bit RGB, averaged per image), MS-SSIM and
MS-SSIM in dB (-10 log10(1 - m)), mean encode and decode ms per image.
Bjontegaard deltas (PCHIP, exact integration): every LIC curve against each
anchor, each anchor against JPEG; BD-rate on PSNR and MS-SSIM dB, BD-PSNR.

Writes into --out: rd.json (all points, per-image values, settings, machine,
commands, versions), rd.md (a table per codec, the BD table), rd.svg (PSNR
and MS-SSIM dB against bpp). Progress goes to stderr.

Needs numpy and Pillow (>= 11.3 for AVIF): pip install -r tools/requirements-rd.txt
"""
from __future__ import annotations

import argparse
import os
import sys

TOOLS = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(TOOLS)
sys.path.insert(0, TOOLS)

from rdreport.deps import avif_problem, missing_message, missing_packages  # noqa: E402  (no numpy/Pillow needed)

_MISSING = missing_packages()
if _MISSING and __name__ == "__main__":
    sys.exit(missing_message(_MISSING))

EPILOG = """\
LIC curves:
  no --model                  lic's shipped default model, one curve over --qualities
  --model A                   that model over --qualities
  --model A --model B         one curve per model over --qualities
  --qualities "" --model A --model B
                              fixed-rate models: each run once without --quality,
                              together one curve with a point per model

the lic binary: --lic PATH, else $LIC_BIN, else .build/release/lic of this
checkout, else lic on PATH.

examples:
  python3 tools/rd_report.py --data kodak --out rd-kodak
  python3 tools/rd_report.py --data kodak --out rd-quick --limit 4 --anchors jpeg,webp \\
      --jpeg-qualities 10,30,50,70,90
  python3 tools/rd_report.py --data kodak --out rd-models --qualities "" \\
      --model models/q1 --model models/q2 --model models/q3
"""


def quality_list(text: str):
    """Anchor qualities: '5,50,90' -> [5, 50, 90]; '' -> []."""
    try:
        return [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a comma-separated list of integers: {text!r}") from None


def lic_quality_list(text: str):
    """LIC qualities, numbers (lic eval --quality takes fractional ones too):
    '1,2,4.5' -> [1, 2, 4.5]; '' -> []."""
    values = []
    for part in text.split(","):
        if not part.strip():
            continue
        try:
            value = float(part)
        except ValueError:
            raise argparse.ArgumentTypeError(f"not a comma-separated list of numbers: {text!r}") from None
        values.append(int(value) if value.is_integer() else value)
    return values


def positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a positive integer: {text!r}")
    return value


def build_parser() -> argparse.ArgumentParser:
    from rdreport.anchors import ANCHORS   # imports Pillow; only reached when it is installed
    parser = argparse.ArgumentParser(
        prog="rd_report.py", description=__doc__,
        epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", required=True, metavar="DIR", help="folder of PNG images to code")
    parser.add_argument("--out", required=True, metavar="DIR", help="folder for rd.json, rd.md and rd.svg (created)")
    parser.add_argument("--lic", metavar="PATH", help="the lic binary (default: $LIC_BIN, .build/release/lic, PATH)")
    parser.add_argument("--model", action="append", default=[], metavar="DIR",
                        help="LIC model directory; repeat for several models (default: lic's shipped model)")
    parser.add_argument("--qualities", type=lic_quality_list, default=[1, 2, 3, 4, 5, 6, 7, 8], metavar="LIST",
                        help="LIC qualities for lic eval --quality (default 1,2,3,4,5,6,7,8; \"\" runs "
                             "each --model once at its own rate)")
    for anchor in ANCHORS.values():
        parser.add_argument(f"--{anchor.name}-qualities", type=quality_list, metavar="LIST",
                            default=list(anchor.default_qualities),
                            help=f"{anchor.label} qualities, 0-100 (default "
                                 f"{','.join(map(str, anchor.default_qualities))})")
    parser.add_argument("--anchors", default="jpeg,webp,avif", metavar="LIST",
                        help="anchor codecs, from jpeg,webp,avif (default all three; \"\" for none)")
    parser.add_argument("--limit", type=positive_int, metavar="N", help="code only the first N images (by name)")
    parser.add_argument("--threads", type=positive_int, metavar="N",
                        help="threads for lic eval (--threads) and the AVIF encoder (max_threads); "
                             "default: lic's default, and all CPUs for AVIF")
    parser.add_argument("--quiet", action="store_true", help="no progress on stderr")
    return parser


def validate(args, parser) -> None:
    from rdreport.anchors import parse_anchor_names
    try:
        args.anchor_codecs = parse_anchor_names(args.anchors)
    except ValueError as error:
        parser.error(str(error))
    for anchor in args.anchor_codecs:
        qualities = getattr(args, f"{anchor.name}_qualities")
        if not qualities:
            parser.error(f"--{anchor.name}-qualities is empty (leave {anchor.name} out of --anchors instead)")
        bad = [q for q in qualities if not 0 <= q <= 100]
        if bad:
            parser.error(f"--{anchor.name}-qualities: {bad} outside 0-100")
    for model in args.model:
        if not os.path.isdir(model):
            parser.error(f"--model {model}: no such folder")
    if any(anchor.name == "avif" for anchor in args.anchor_codecs):
        problem = avif_problem()
        if problem:
            parser.error(problem)


def main(argv=None) -> int:
    if _MISSING:
        sys.stderr.write(missing_message(_MISSING) + "\n")
        return 2
    parser = build_parser()
    args = parser.parse_args(argv)
    validate(args, parser)
    from rdreport.anchors import AnchorError
    from rdreport.images import ImageError, list_pngs
    from rdreport.lic import Lic, LicError, find_lic
    from rdreport.progress import Progress
    from rdreport.run import Options, run_report
    progress = Progress(quiet=args.quiet)
    try:
        lic = Lic(find_lic(args.lic, REPO))
        options = Options(
            data_dir=args.data, out_dir=args.out, names=list_pngs(args.data, args.limit),
            models=args.model, qualities=args.qualities, anchors=args.anchor_codecs,
            anchor_qualities={a.name: getattr(args, f"{a.name}_qualities") for a in args.anchor_codecs},
            threads=args.threads, argv=[sys.argv[0]] + list(sys.argv[1:] if argv is None else argv))
        report = run_report(lic, options, progress)
    except (LicError, ImageError, AnchorError) as error:
        progress.done()
        sys.stderr.write(f"rd_report: {error}\n")
        return 1
    except OSError as error:   # e.g. --out not writable
        progress.done()
        sys.stderr.write(f"rd_report: {error.filename or ''}: {error.strerror or error}\n")
        return 1
    print_summary(report, args.out, progress)
    return 0


def print_summary(report: dict, out_dir: str, progress) -> None:
    for entry in report["bd"]:
        result = entry["bd_rate_psnr_percent"]
        value = "n/a: " + result["reason"] if result["value"] is None else f"{result['value']:+.2f} %"
        progress.line(f"BD-rate (PSNR) {entry['test']} vs {entry['anchor']}: {value}")
    for name in ("rd.json", "rd.md", "rd.svg"):
        progress.line(f"wrote {os.path.join(out_dir, name)}")


if __name__ == "__main__":
    sys.exit(main())
