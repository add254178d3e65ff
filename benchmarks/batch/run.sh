#!/usr/bin/env bash
# Batch coding throughput: a plain for loop over the CLI (lic encode + lic
# decode per image, one process each) against python -m lic.batch on a local
# Dask cluster with 1 and 2 workers (one thread each). Images per second and
# ratios to the loop.
# Usage: benchmarks/batch/run.sh MODEL_DIR IMAGE_DIR
# Needs: swift build -c release; pip install './bindings/python[batch]'.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
model=$1 images=$2
(cd "$root" && swift build -c release >/dev/null)
lic=$root/.build/release/lic
export LIC_EMBED_LIBRARY=$root/.build/release/liblicembed.so
python3 -c "import lic.batch, distributed, PIL" 2>/dev/null || { echo "needs: pip install '$root/bindings/python[batch]'" >&2; exit 2; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
count=$(ls "$images"/*.png | wc -l)
start=$(python3 -c "import time; print(time.time())")
for image in "$images"/*.png; do
    LIC_THREADS=2 "$lic" encode --model "$model" "$image" -o "$work/a.lic" >/dev/null
    LIC_THREADS=2 "$lic" decode --model "$model" "$work/a.lic" -o "$work/a.png" >/dev/null
done
loop=$(python3 -c "import time; print(time.time() - $start)")
printf 'CLI loop (2 threads per process): %d images in %.1f s, %.3f images/s\n' "$count" "$loop" "$(python3 -c "print($count / $loop)")"
for workers in 1 2; do
    start=$(python3 -c "import time; print(time.time())")
    python3 -m lic.batch "$images" --model "$model" --workers "$workers" --out "$work/w$workers.jsonl" 2>"$work/err$workers"
    seconds=$(python3 -c "import time; print(time.time() - $start)")
    printf 'lic.batch, %d worker(s): %d images in %.1f s (cluster start included), %.3f images/s, %.2fx the loop\n' \
        "$workers" "$count" "$seconds" "$(python3 -c "print($count / $seconds)")" "$(python3 -c "print($loop / $seconds)")"
done
