#!/usr/bin/env bash
# Context models, LIC beside CompressAI on one image (kodim01) and the same
# threads: the time of encode and decode of each model (untrained weights,
# N=128, M=192; cheng2020 N=192; elic2022-official N=192, M=320; time does
# not depend on them), medians of REPEATS after a warm-up. Both sides are
# library calls on an image in memory: LIC through its embedding library
# (lic_side.py: lic_encode writes the file without running the synthesis,
# lic_decode), CompressAI through compress/decompress.
# Usage: benchmarks/context-models/run.sh IMAGE OUT [THREADS] [REPEATS]
#   ARCHS (environment): the models to time (default: all four)
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
here=$root/benchmarks/context-models
image=${1:?usage: run.sh IMAGE OUT [THREADS] [REPEATS]}; out=${2:?usage: run.sh IMAGE OUT [THREADS] [REPEATS]}
threads=${3:-2}; repeats=${4:-3}
lic=$root/.build/release/lic
[ -x "$lic" ] || { echo "run.sh: $lic is missing; run 'swift build -c release' first" >&2; exit 1; }
mkdir -p "$out/data"
cp "$image" "$out/data/"  # lic train --steps 0 wants a folder: it writes the untrained model
{
    echo "| model | LIC encode s | LIC decode s | CompressAI encode s | CompressAI decode s | encode ratio | decode ratio |"
    echo "| --- | ---: | ---: | ---: | ---: | ---: | ---: |"
    for arch in ${ARCHS:-mbt2018-mean cheng2020-anchor-checkerboard mbt2018 elic2022-official}; do
        "$lic" train --pipeline "$root/examples/pipelines/$arch.toml" --data "$out/data" --lambda 0.0067 --out "$out/$arch" --steps 0 >/dev/null 2>&1
        read -r lic_encode lic_decode < <(LIC_EMBED_LIBRARY=$root/.build/release/liblicembed.so \
            python3 "$here/lic_side.py" "$out/$arch" "$image" "$threads" "$repeats")
        read -r cai_encode cai_decode < <(python3 "$here/anchor_compressai.py" "$arch" "$image" "$threads" "$repeats")
        python3 -c "print('| $arch | $lic_encode | $lic_decode | $cai_encode | $cai_decode | %.2f | %.2f |' % ($lic_encode / $cai_encode, $lic_decode / $cai_decode))"
    done
} | tee "$out/context-models.md"
