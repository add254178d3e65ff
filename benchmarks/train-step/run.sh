#!/usr/bin/env bash
# One training step of the mean-scale hyperprior (examples/pipelines/mbt2018-mean.toml
# through Codec + TrainingStep, the code lic train runs; N=128, M=192, batch 8,
# 128x128, MSE loss, Adam + aux Adam, clip 1.0, 2 threads): LIC against
# CompressAI/PyTorch, alternating rounds on the same machine, medians.
# Usage: benchmarks/train-step/run.sh [ROUNDS] [STEPS_PER_ROUND]
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
rounds=${1:-3}
steps=${2:-6}
# The whole package: lic-bench loads the built-in plugins from beside itself, as lic does.
swift build -c release >/dev/null
export LIC_THREADS=2 OMP_NUM_THREADS=2
lic=() anchor=()
for round in $(seq "$rounds"); do
    lic+=("$(.build/release/lic-bench train-step "$steps")")
    anchor+=("$(python3 benchmarks/train-step/anchor_compressai.py "$steps" 2>/dev/null)")
    echo "round $round: ${lic[-1]}"
    echo "round $round: ${anchor[-1]}"
done
python3 - "${lic[@]}" "--" "${anchor[@]}" <<'PY'
import json, statistics, sys
split = sys.argv.index("--")
lic = [json.loads(a) for a in sys.argv[1:split]]
anchor = [json.loads(a) for a in sys.argv[split + 1:]]
l = statistics.median(r["step_ms"] for r in lic)
print(f"LIC median step: {l:.1f} ms")
if any("skipped" in a for a in anchor):
    print(anchor[0].get("skipped"))
else:
    a = statistics.median(r["step_ms"] for r in anchor)
    print(f"{anchor[0]['framework']} median step: {a:.1f} ms")
    print(f"speed-up LIC vs anchor: {a / l:.2f}x")
PY
