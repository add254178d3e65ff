#!/usr/bin/env bash
# Training-time overhead of each regularizer: seconds per step of the
# baseline and of the regularized pipeline, the same recipe, measured back to
# back on an otherwise idle machine (the ablation's own timings share the
# cores with whatever else runs). Prints a Markdown table.
# Usage: benchmarks/regularizers/overhead.sh [STEPS] [BATCH] [CROP]
#   (defaults 60, 8, 128; TRAIN_DIR, LIC and LIC_THREADS as in run.sh)
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
steps=${1:-60} batch=${2:-8} crop=${3:-128}
train=${TRAIN_DIR:-$root/../shared/data/train}
lic=${LIC:-}
if [ -z "$lic" ]; then
    (cd "$root" && swift build -c release >/dev/null)
    lic=$root/.build/release/lic
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# Seconds per step after a 10-step warm-up: the difference of two runs' elapsed_s in train.jsonl.
per_step() {  # per_step PIPELINE
    "$lic" train --pipeline "$root/examples/pipelines/$1.toml" --data "$train" --lambda 0.0067 --steps $(( steps + 10 )) \
        --batch "$batch" --crop "$crop" --log-every 10 --checkpoint-every 100000 --out "$work/$1" >/dev/null 2>&1
    python3 - "$work/$1/train.jsonl" "$steps" <<'PY'
import json, sys
rows = [json.loads(line) for line in open(sys.argv[1])]
at = {row["step"]: row["elapsed_s"] for row in rows}
steps = int(sys.argv[2])
print(f"{(at[steps + 10] - at[10]) / steps:.4f}")
PY
}
echo "| pipeline | s/step | overhead vs its baseline |"
echo "| --- | ---: | ---: |"
for pair in "mbt2018-mean:mbt2018-mean-correlation mbt2018-mean-conditional-entropy" "channelwise-power:channelwise-power-cca"; do
    baseline=${pair%%:*}
    base=$(per_step "$baseline")
    echo "| $baseline | $base | |"
    for regularized in ${pair#*:}; do
        value=$(per_step "$regularized")
        echo "| $regularized | $value | $(python3 -c "print(f'{($value / $base - 1) * 100:+.1f}%')") |"
    done
done
