#!/usr/bin/env bash
# Recipe comparisons for continuing a variable-rate model: three branches
# trained from the same weights for the same number of steps, at once, one
# thread each (so all three see the same machine), then each coded on Kodak
# with `lic eval` and compared by BD-rate (PSNR, piecewise cubic) against the
# starting model:
#   noise   the pipeline's quantizer with the noise surrogate, --downscale 0.5:1
#   mixed   surrogate = "mixed" (noise for the rate, rounding for the synthesis), --downscale 0.5:1
#   nodown  the noise surrogate, crops at full scale
# Usage: benchmarks/recipe/run.sh MODEL OUT [STEPS] [QUALITIES] [KODAK]
#   MODEL: a variable-rate model directory (e.g. models/mbt2018-mean-vr)
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
model=$(cd "$1" && pwd); out=$2; steps=${3:-1000}; qualities=${4:-1,3,5,7}
kodak=${5:-../shared/data/kodak}; data=${LIC_TRAIN_DATA:-../shared/data/train}
mkdir -p "$out"
swift build -c release >/dev/null
lic=.build/release/lic
grep -v '^surrogate' "$model/model.toml" | sed 's/^\[quantizer\]$/[quantizer]\nsurrogate = "noise"/' > "$out/noise.toml"
sed 's/^surrogate = "noise"$/surrogate = "mixed"/' "$out/noise.toml" > "$out/mixed.toml"
grep -q '^\[quantizer\]' "$out/noise.toml" || { echo "$model/model.toml has no [quantizer] section" >&2; exit 1; }
common=(--init "$model" --data "$data" --lambdas standard --lr 5e-4 --schedule "cosine:$steps:0.05,warmup:100"
        --steps "$steps" --seed 3 --threads 1 --checkpoint-every "$steps")
pids=()
for branch in noise mixed nodown; do
    pipeline="$out/noise.toml"; downscale=0.5:1
    [ "$branch" = mixed ] && pipeline="$out/mixed.toml"
    [ "$branch" = nodown ] && downscale=1
    [ -f "$out/$branch/weights.safetensors" ] && continue
    "$lic" train "${common[@]}" --pipeline "$pipeline" --downscale "$downscale" --out "$out/$branch" > "$out/$branch.log" 2>&1 &
    pids+=($!)
done
for pid in "${pids[@]}"; do wait "$pid"; done
echo "trained: $(tail -qn1 "$out"/*.log | tr '\n' ' ')"
for dir in "$model" "$out/noise" "$out/mixed" "$out/nodown"; do
    name=$(basename "$dir")
    for q in ${qualities//,/ }; do
        [ -f "$out/eval-$name-q$q.json" ] || "$lic" eval --model "$dir" --data "$kodak" --quality "$q" --json "$out/eval-$name-q$q.json" > /dev/null
    done
done
python3 - "$out" "$qualities" "$(basename "$model")" noise mixed nodown <<'PY'
import json, os, sys
sys.path.insert(0, os.path.join(os.getcwd(), "tools"))
from rdreport.bd import bd_rate
out, qualities, names = sys.argv[1], sys.argv[2].split(","), sys.argv[3:]
curves = {}
print("| model | " + " | ".join(f"Q{q} bpp / PSNR" for q in qualities) + " | BD-rate vs start |")
print("| --- |" + " ---: |" * (len(qualities) + 1))
for name in names:
    points = [json.load(open(f"{out}/eval-{name}-q{q}.json"))["mean"] for q in qualities]
    curves[name] = ([p["bpp"] for p in points], [p["psnr"] for p in points])
    bd = "0" if name == names[0] else f"{bd_rate(*curves[names[0]], *curves[name])['value']:+.1f} %"
    print(f"| {name} | " + " | ".join(f"{b:.4f} / {p:.2f}" for b, p in zip(*curves[name])) + f" | {bd} |")
PY
