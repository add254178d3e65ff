#!/usr/bin/env bash
# CompressAI parity on weights LIC never saw: a CompressAI model trained for
# MINUTES with PyTorch (train_compressai.py), imported with
# tools/compressai_to_lic.py, then the same Kodak images coded by CompressAI's
# compress/decompress and by `lic encode`: bytes (LIC's whole file) and PSNR
# side by side (compare.py). Writes OUT/parity-ARCH.md.
# Usage: benchmarks/compressai-parity/run.sh ARCH N M TRAIN_DIR KODAK_DIR OUT [MINUTES] [IMAGES]
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
here=$root/benchmarks/compressai-parity
usage="usage: run.sh ARCH N M TRAIN_DIR KODAK_DIR OUT [MINUTES] [IMAGES]"
arch=${1:?$usage}; n=${2:?$usage}; m=${3:?$usage}; train=${4:?$usage}; kodak=${5:?$usage}; out=${6:?$usage}
minutes=${7:-10}; count=${8:-6}
lic=$root/.build/release/lic
[ -x "$lic" ] || { echo "run.sh: $lic is missing; run 'swift build -c release' first" >&2; exit 1; }
mkdir -p "$out"
[ -f "$out/$arch.pth" ] || python3 "$here/train_compressai.py" "$arch" "$n" "$m" "$train" "$minutes" "$out/$arch.pth"
python3 "$root/tools/compressai_to_lic.py" --arch "$arch" --N "$n" --M "$m" --checkpoint "$out/$arch.pth" --out "$out/$arch" >/dev/null
mapfile -t images < <(ls "$kodak"/*.png | head -n "$count")
python3 "$here/compare.py" "$arch" "$n" "$m" "$out/$arch.pth" "$out/$arch" "$lic" "${images[@]}" | tee "$out/parity-$arch.md"
