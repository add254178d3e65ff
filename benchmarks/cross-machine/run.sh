#!/usr/bin/env bash
# Decoding on another machine, emulated on this one: every PNG of a folder is
# encoded with oneDNN restricted to SSE4.1 on one thread (and the exact kernels'
# portable C loop instead of AVX2) and decoded with the
# default kernels (AVX2 or AVX-512) on two threads, and the other way round.
# Prints per image whether it decoded and the largest pixel difference from
# the encoder's reconstruction, then totals.
# Usage: benchmarks/cross-machine/run.sh MODEL_DIR IMAGE_DIR [LIC_BINARY]
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
model=$1 images=$2
lic=${3:-}
if [ -z "$lic" ]; then
    (cd "$root" && swift build -c release >/dev/null)  # lic and the plugin libraries
    lic=$root/.build/release/lic
fi
python3 -c "import numpy, PIL" 2>/dev/null || { echo "needs numpy and Pillow: pip install -r $root/benchmarks/cross-machine/requirements.txt" >&2; exit 2; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
sse=(env DNNL_MAX_CPU_ISA=SSE41 LIC_THREADS=1 LIC_EXACT_KERNEL=portable)
native=(env LIC_THREADS=2)
printf '%-14s %-22s %-22s\n' image "SSE4.1/1 -> native/2" "native/2 -> SSE4.1/1"
for image in "$images"/*.png; do
    name=$(basename "$image" .png)
    line=$(printf '%-14s' "$name")
    for direction in 0 1; do
        if [ $direction = 0 ]; then enc=("${sse[@]}") dec=("${native[@]}"); else enc=("${native[@]}") dec=("${sse[@]}"); fi
        "${enc[@]}" "$lic" encode --model "$model" "$image" -o "$work/a.lic" --reconstruction "$work/rec.png" >/dev/null
        if "${dec[@]}" "$lic" decode --model "$model" "$work/a.lic" -o "$work/dec.png" >/dev/null 2>"$work/err"; then
            diff=$(python3 -c "
import numpy as np, PIL.Image as I, sys
a = np.asarray(I.open(sys.argv[1]), dtype=np.int16); b = np.asarray(I.open(sys.argv[2]), dtype=np.int16)
print(int(np.abs(a - b).max()))" "$work/rec.png" "$work/dec.png")
            line+=$(printf ' %-22s' "ok, max diff $diff")
        else
            line+=$(printf ' %-22s' "FAILED")
        fi
    done
    echo "$line"
done | tee "$work/table"
echo "decoded: $(grep -o 'ok' "$work/table" | wc -l) of $(( $(wc -l < "$work/table") * 2 )); failed: $(grep -o FAILED "$work/table" | wc -l); worst pixel difference: $(grep -o 'max diff [0-9]*' "$work/table" | awk '{print $3}' | sort -n | tail -1)"
