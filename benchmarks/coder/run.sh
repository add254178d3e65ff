#!/usr/bin/env bash
# Entropy coder throughput: LIC's rANS (64 Gaussian tables, indexed) against
# constriction on the same 2M symbols, medians of 7 runs, and the ratio.
# Usage: benchmarks/coder/run.sh   (needs numpy; constriction optional)
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
swift build -c release --product lic-bench >/dev/null
data=$(mktemp -d)
python3 benchmarks/coder/make_data.py "$data" 2000000
lic=$(.build/release/lic-bench coder "$data" 7)
anchors=$(python3 benchmarks/coder/anchor_constriction.py "$data" 7)
rm -rf "$data"
echo "$lic"
echo "$anchors"
python3 - "$lic" "$anchors" <<'PY'
import json, sys
lic = json.loads(sys.argv[1])
for line in sys.argv[2].splitlines():
    a = json.loads(line)
    if "skipped" in a:
        print(a["skipped"]); continue
    print(f"LIC vs {a['coder']}: encode {lic['encode_msym_s']/a['encode_msym_s']:.2f}x, "
          f"decode {lic['decode_msym_s']/a['decode_msym_s']:.2f}x, size ratio {lic['bytes']/a['bytes']:.4f}")
PY
