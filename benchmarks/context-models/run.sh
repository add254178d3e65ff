#!/usr/bin/env bash
# Context models, LIC beside CompressAI on one image (kodim01) and the same
# threads: the time of encode and decode of each model (untrained weights,
# N=128, M=192; cheng2020 N=192; time does not depend on them), medians of REPEATS. LIC's
# figures are its library calls (lic eval's encode_s / decode_s: no process
# start, model load or PNG I/O), like CompressAI's compress/decompress.
# Usage: benchmarks/context-models/run.sh IMAGE OUT [THREADS] [REPEATS]
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
here=$root/benchmarks/context-models
image=${1:?usage: run.sh IMAGE OUT [THREADS] [REPEATS]}; out=${2:?usage: run.sh IMAGE OUT [THREADS] [REPEATS]}
threads=${3:-2}; repeats=${4:-3}
lic=$root/.build/release/lic
[ -x "$lic" ] || { echo "run.sh: $lic is missing; run 'swift build -c release' first" >&2; exit 1; }
mkdir -p "$out/data"
cp "$image" "$out/data/"
{
    echo "| model | LIC encode s | LIC decode s | CompressAI encode s | CompressAI decode s | encode ratio | decode ratio |"
    echo "| --- | ---: | ---: | ---: | ---: | ---: | ---: |"
    for arch in mbt2018-mean cheng2020-anchor-checkerboard mbt2018; do
        "$lic" train --pipeline "$root/examples/pipelines/$arch.toml" --data "$out/data" --lambda 0.0067 --out "$out/$arch" --steps 0 >/dev/null 2>&1
        times=()
        for run in $(seq "$repeats"); do
            "$lic" eval --model "$out/$arch" --data "$out/data" --threads "$threads" --json "$out/$arch.json" >/dev/null
            times+=("$(python3 -c "import json; m = json.load(open('$out/$arch.json'))['mean']; print(m['encode_s'], m['decode_s'])")")
        done
        read -r lic_encode lic_decode < <(printf '%s\n' "${times[@]}" | sort -n | sed -n "$(( (repeats + 1) / 2 ))p")
        read -r cai_encode cai_decode < <(python3 "$here/anchor_compressai.py" "$arch" "$image" "$threads" "$repeats")
        python3 -c "print('| $arch | $lic_encode | $lic_decode | $cai_encode | $cai_decode | %.2f | %.2f |' % ($lic_encode / $cai_encode, $lic_decode / $cai_decode))"
    done
} | tee "$out/context-models.md"
