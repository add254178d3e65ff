#!/usr/bin/env bash
# The reference run, LIC side: mbt2018-mean (N=128, M=192), lambda 0.0067,
# 128x128 crops, batch 8, Adam 1e-4 (aux 1e-3), clip 1.0, the training
# photos, a fixed wall-clock budget on 2 threads; then Kodak.
# Usage: benchmarks/reference-run/run_lic.sh OUT_DIR [BUDGET_SECONDS=2400] [SHARED=../shared]
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
out=${1:?usage: run_lic.sh OUT_DIR [BUDGET_SECONDS] [SHARED]}
budget=${2:-2400}
shared=${3:-$root/../shared}
cd "$root"
swift build -c release >/dev/null
.build/release/lic train --pipeline examples/pipelines/mbt2018-mean.toml --data "$shared/data/train" \
    --lambda 0.0067 --out "$out" --time-budget "$budget" --batch 8 --crop 128 --lr 1e-4 --aux-lr 1e-3 --clip 1.0 \
    --threads 2 --log-every 50 --checkpoint-every 1000
.build/release/lic eval --model "$out" --data "$shared/data/kodak" --json "$out/kodak.json" --threads 2
