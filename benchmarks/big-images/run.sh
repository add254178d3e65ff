#!/usr/bin/env bash
# Large images in bounded memory: `lic encode` / `lic decode` as whole
# processes on kodim01 (768x512), a 4K image (3840x2160) and a 24-megapixel
# image (6000x4000, both resized from one training photo), beside CompressAI's
# mbt2018-mean (N=128, M=192) compress/decompress on the same images and
# threads. Wall seconds and peak RSS (GNU time), one run each (large images
# take minutes). Writes OUT/big-images.md.
# Usage: benchmarks/big-images/run.sh MODEL KODAK_DIR PHOTO.png OUT [THREADS]
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
here=$root/benchmarks/big-images
usage="usage: run.sh MODEL KODAK_DIR PHOTO.png OUT [THREADS]"
model=${1:?$usage}; kodak=${2:?$usage}; photo=${3:?$usage}; out=${4:?$usage}; threads=${5:-2}
lic=$root/.build/release/lic
[ -x "$lic" ] || { echo "run.sh: $lic is missing; run 'swift build -c release' first" >&2; exit 1; }
mkdir -p "$out"
python3 "$here/make_images.py" "$photo" "$out"
cp "$kodak/kodim01.png" "$out/kodim01.png"

row() {  # codec, image, step, command...
    local codec=$1 image=$2 step=$3; shift 3
    /usr/bin/time -f "%e %M %U %S" -o "$out/time.txt" "$@" >/dev/null
    read -r wall rss user sys < "$out/time.txt"
    printf "| %s | %s | %s | %.2f | %.0f | %.1f | %.1f |\n" "$codec" "$image" "$step" "$wall" "$((rss / 1024))" "$user" "$sys"
}
{
    echo "| codec | image | step | wall s | peak MiB | user s | sys s |"
    echo "| --- | --- | --- | ---: | ---: | ---: | ---: |"
    for image in kodim01 4k 24mp; do
        row LIC "$image" encode "$lic" encode --model "$model" --threads "$threads" "$out/$image.png" -o "$out/$image.lic" --reconstruction "$out/$image-rec.png"
        row LIC "$image" decode "$lic" decode --model "$model" --threads "$threads" "$out/$image.lic" -o "$out/$image-dec.png"
        cmp -s "$out/$image-rec.png" "$out/$image-dec.png" || echo "| LIC | $image | decode differs from the encoder's reconstruction | | | | |"
        row CompressAI "$image" encode python3 "$here/anchor_compressai.py" encode "$out/$image.png" "$out/$image.bin" "$threads"
        row CompressAI "$image" decode python3 "$here/anchor_compressai.py" decode "$out/$image.bin" "$out/$image-cai.png" "$threads"
    done
} | tee "$out/big-images.md"
rm -f "$out/time.txt"
