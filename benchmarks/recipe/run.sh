#!/usr/bin/env bash
# Recipe comparisons for continuing a variable-rate model: branches trained
# from the same weights for the same number of steps (same seed: the same
# crops and levels), at once, one thread each (so all see the same machine),
# then each coded on Kodak with `lic eval` and compared by BD-rate (PSNR,
# piecewise cubic) against the starting model.
#
# Usage: benchmarks/recipe/run.sh MODEL OUT [STEPS] [QUALITIES] [KODAK] [-- NAME='LIC TRAIN ARGS' ...]
#   MODEL: a variable-rate model directory (e.g. models/mbt2018-mean-vr)
#   Each branch NAME gets `lic train` with the common settings below plus its
#   own arguments; '@noise' and '@mixed' stand for MODEL's descriptor with the
#   noise or the mixed training surrogate. Without branches, the three of the
#   seventh session:
#     noise   --pipeline @noise --downscale 0.5:1
#     mixed   --pipeline @mixed --downscale 0.5:1
#     nodown  --pipeline @noise --downscale 1
#   e.g. -- linear='--pipeline @mixed --downscale 0.5:1' log='--pipeline @mixed --downscale 0.5:1 --loss log'
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
usage="usage: run.sh MODEL OUT [STEPS] [QUALITIES] [KODAK] [-- NAME='ARGS' ...]"
positional=()
while [ $# -gt 0 ] && [ "$1" != "--" ]; do positional+=("$1"); shift; done
[ $# -gt 0 ] && shift
branches=("$@")
[ ${#branches[@]} -eq 0 ] && branches=("noise=--pipeline @noise --downscale 0.5:1" "mixed=--pipeline @mixed --downscale 0.5:1"
                                       "nodown=--pipeline @noise --downscale 1")
[ ${#positional[@]} -ge 2 ] || { echo "$usage" >&2; exit 2; }
model=$(cd "${positional[0]}" && pwd); out=${positional[1]}; steps=${positional[2]:-1000}; qualities=${positional[3]:-1,3,5,7}
kodak=${positional[4]:-../shared/data/kodak}; data=${LIC_TRAIN_DATA:-../shared/data/train}
mkdir -p "$out"
swift build -c release >/dev/null
lic=.build/release/lic
grep -v '^surrogate' "$model/model.toml" | sed 's/^\[quantizer\]$/[quantizer]\nsurrogate = "noise"/' > "$out/noise.toml"
sed 's/^surrogate = "noise"$/surrogate = "mixed"/' "$out/noise.toml" > "$out/mixed.toml"
grep -q '^\[quantizer\]' "$out/noise.toml" || { echo "$model/model.toml has no [quantizer] section" >&2; exit 1; }
common=(--init "$model" --data "$data" --lambdas standard --lr 5e-4 --schedule "cosine:$steps:0.05,warmup:100"
        --steps "$steps" --seed 3 --threads 1 --checkpoint-every "$steps")
pids=(); names=()
for spec in "${branches[@]}"; do
    name=${spec%%=*}; args=${spec#*=}
    [[ "$spec" == *=* && "$name" =~ ^[A-Za-z0-9_-]+$ ]] || { echo "run.sh: branch '$spec' is not NAME='ARGS'" >&2; exit 2; }
    names+=("$name")
    args=${args//@noise/$out/noise.toml}; args=${args//@mixed/$out/mixed.toml}
    [ -f "$out/$name/weights.safetensors" ] && continue
    # shellcheck disable=SC2086  # the branch's arguments split on spaces
    "$lic" train "${common[@]}" $args --out "$out/$name" > "$out/$name.log" 2>&1 &
    pids+=($!)
done
for pid in "${pids[@]}"; do wait "$pid"; done
echo "trained: $(for name in "${names[@]}"; do tail -n1 "$out/$name.log"; done | tr '\n' ' ')"
start=$(basename "$model")
for dir in "$model" "${names[@]/#/$out/}"; do
    name=$(basename "$dir")
    for q in ${qualities//,/ }; do
        [ -f "$out/eval-$name-q$q.json" ] || "$lic" eval --model "$dir" --data "$kodak" --quality "$q" --json "$out/eval-$name-q$q.json" > /dev/null
    done
done
python3 - "$out" "$qualities" "$start" "${names[@]}" <<'PY'
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
