#!/usr/bin/env bash
# One LIC layer (192 -> 192, 5x5, stride 2, 1x192x128x128): forward, backward
# data and backward weights, LIC (oneDNN) against torch.nn.functional.conv2d,
# plus LIC's exact-mode (fixed-order, portable) forward,
# alternating rounds, 2 threads, medians and ratios.
# Usage: benchmarks/conv-layer/run.sh [ROUNDS] [RUNS_PER_ROUND]
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
rounds=${1:-3}
runs=${2:-20}
swift build -c release --product lic-bench >/dev/null
export LIC_THREADS=2 OMP_NUM_THREADS=2
lic=() anchor=()
for round in $(seq "$rounds"); do
    lic+=("$(.build/release/lic-bench conv-layer "$runs")")
    anchor+=("$(python3 benchmarks/conv-layer/anchor_torch.py "$runs" 2)")
    echo "round $round: ${lic[-1]}"
    echo "round $round: ${anchor[-1]}"
done
python3 - "${lic[@]}" "--" "${anchor[@]}" <<'PY'
import json, statistics, sys
split = sys.argv.index("--")
lic = [json.loads(a) for a in sys.argv[1:split]]
anchor = [json.loads(a) for a in sys.argv[split + 1:]]
for key in ["forward", "backward_data", "backward_weights"]:
    l = statistics.median(r[key + "_ms"] for r in lic)
    line = f"{key:17s} LIC {l:7.2f} ms ({statistics.median(r['gflops_' + key] for r in lic):6.1f} GFLOP/s)"
    if "skipped" not in anchor[0]:
        a = statistics.median(r[key + "_ms"] for r in anchor)
        line += f"   torch {a:7.2f} ms ({statistics.median(r['gflops_' + key] for r in anchor):6.1f} GFLOP/s)   ratio {a / l:.2f}x"
    print(line)
e = statistics.median(r["exact_forward_ms"] for r in lic)
f = statistics.median(r["forward_ms"] for r in lic)
print(f"{'exact forward':17s} LIC {e:7.2f} ms ({statistics.median(r['gflops_exact_forward'] for r in lic):6.1f} GFLOP/s)"
      f"   (the fixed-order kernel coding uses for entropy parameters; {e / f:.2f}x LIC's oneDNN forward)")
if "skipped" in anchor[0]:
    print(anchor[0]["skipped"])
PY
