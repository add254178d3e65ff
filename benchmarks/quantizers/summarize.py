"""Summarizes benchmarks/quantizers/run.sh: mean bpp, PSNR, encode and decode
seconds per variant, and BD-rate of each family against rounding (log-rate
interpolated piecewise linearly in PSNR over the overlapping range: with
three points per curve a cubic fit would over-shoot)."""
import json
import math
import pathlib
import sys
from collections import defaultdict


def bd_rate(anchor, test):
    """Average rate difference (%) of `test` against `anchor` at equal PSNR; each a list of (bpp, psnr)."""
    def curve(points):
        points = sorted(points, key=lambda p: p[1])
        return [p[1] for p in points], [math.log(p[0]) for p in points]

    def at(psnrs, rates, q):
        for i in range(len(psnrs) - 1):
            if psnrs[i] <= q <= psnrs[i + 1]:
                t = (q - psnrs[i]) / (psnrs[i + 1] - psnrs[i]) if psnrs[i + 1] > psnrs[i] else 0
                return rates[i] + t * (rates[i + 1] - rates[i])
        return None

    pa, ra = curve(anchor)
    pt, rt = curve(test)
    low, high = max(pa[0], pt[0]), min(pa[-1], pt[-1])
    if high <= low:
        return None
    samples = [low + (high - low) * i / 100 for i in range(101)]
    diff = sum(at(pt, rt, q) - at(pa, ra, q) for q in samples) / len(samples)
    return (math.exp(diff) - 1) * 100


def main(out):
    rows, families = [], defaultdict(list)
    for path in sorted(pathlib.Path(out).glob("*.json")):
        mean = json.loads(path.read_text())["mean"]
        family = path.stem.rsplit("-", 1)[0]
        families[family].append((mean["bpp"], mean["psnr"]))
        rows.append((path.stem, mean))
    print("| variant | bpp | PSNR dB | encode s | decode s |")
    print("| --- | ---: | ---: | ---: | ---: |")
    for name, m in rows:
        print(f"| {name} | {m['bpp']:.4f} | {m['psnr']:.2f} | {m['encode_s']:.3f} | {m['decode_s']:.3f} |")
    anchor = families.get("round")
    print()
    print("| family | BD-rate vs rounding |")
    print("| --- | ---: |")
    for family, points in sorted(families.items()):
        if family == "round" or not anchor:
            continue
        bd = bd_rate(anchor, points)
        print(f"| {family} | {'no overlap' if bd is None else f'{bd:+.2f}%'} |")
    tuned = sorted(pathlib.Path(out, "tuned").glob("*.json"))
    if tuned:
        print()
        print("| fine-tuned variant | bpp | PSNR dB | PSNR before | change dB |")
        print("| --- | ---: | ---: | ---: | ---: |")
        before = dict(rows)
        for path in tuned:
            m = json.loads(path.read_text())["mean"]
            b = before.get(path.stem)
            if b:
                print(f"| {path.stem} | {m['bpp']:.4f} | {m['psnr']:.2f} | {b['psnr']:.2f} | {m['psnr'] - b['psnr']:+.2f} |")


if __name__ == "__main__":
    main(sys.argv[1])
