"""Summarizes benchmarks/regularizers/run.sh: mean bpp and PSNR per model, the
BD-rate of the regularized models against the seed-0 baselines, the BD-rate
of the seed-1 baselines against the seed-0 ones (the noise floor: a
difference smaller than it is not resolved), and seconds per training step.
Usage: summarize.py OUT REGULARIZER"""
import json
import pathlib
import sys

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent.parent / "quantizers"))
from summarize import bd_rate  # noqa: E402  (one BD-rate implementation for all benchmarks)


def curve(out, prefix):
    points = []
    for path in sorted(out.glob(f"{prefix}-*.json")):
        mean = json.loads(path.read_text())["mean"]
        points.append((mean["bpp"], mean["psnr"], path.stem))
    return points


def seconds_per_step(out, prefix):
    values = []
    for path in out.glob(f"{prefix}-*/train-seconds"):
        seconds, steps = map(int, path.read_text().split())
        if steps > 0:
            values.append(seconds / steps)
    return sum(values) / len(values) if values else None


def main(out, regularizer):
    out = pathlib.Path(out)
    base, other, reg = curve(out, "baseline-s0"), curve(out, "baseline-s1"), curve(out, f"{regularizer}-s0")
    print("| model | bpp | PSNR dB |")
    print("| --- | ---: | ---: |")
    for bpp, psnr, name in base + other + reg:
        print(f"| {name} | {bpp:.4f} | {psnr:.2f} |")
    pairs = lambda points: [(b, p) for b, p, _ in points]
    noise = bd_rate(pairs(base), pairs(other)) if len(base) > 1 and len(other) > 1 else None
    gain = bd_rate(pairs(base), pairs(reg)) if len(base) > 1 and len(reg) > 1 else None
    print()
    print(f"BD-rate {regularizer} vs baseline (seed 0): " + ("n/a" if gain is None else f"{gain:+.2f}%"))
    print("BD-rate baseline seed 1 vs seed 0 (noise floor): " + ("n/a" if noise is None else f"{noise:+.2f}%"))
    b, r = seconds_per_step(out, "baseline-s0"), seconds_per_step(out, f"{regularizer}-s0")
    if b and r:
        print(f"training: {b:.3f} s/step baseline, {r:.3f} s/step with {regularizer} ({(r / b - 1) * 100:+.1f}%)")


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit("usage: summarize.py OUT REGULARIZER")
    main(sys.argv[1], sys.argv[2])
