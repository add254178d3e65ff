#!/usr/bin/env bash
# Large images in bounded memory: `lic encode` / `lic decode` as whole
# processes on kodim01 (768x512), a 4K image (3840x2160) and a 24-megapixel
# image (6000x4000, both resized from one training photo), beside CompressAI's
# mbt2018-mean (N=128, M=192) compress/decompress on the same images and
# threads, with the same weights: CompressAI's network (seed 0) is imported
# into LIC with tools/compressai_to_lic.py. Then the trained MODEL on the 4K
# image, tiled (the default) and untiled: PSNR of each, and decode equal to
# the encoder's reconstruction. Wall seconds and peak RSS (GNU time), one run
# each (large images take minutes). Writes OUT/big-images.md.
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
python3 "$here/anchor_compressai.py" export "$out/compressai.pth"
python3 "$root/tools/compressai_to_lic.py" --arch mbt2018-mean --N 128 --M 192 --checkpoint "$out/compressai.pth" --out "$out/compressai-model" >/dev/null

# Runs a command under GNU time; prints a table row. The command's stdout goes to $out/last.txt.
row() {  # codec, image, step, command...
    local codec=$1 image=$2 step=$3; shift 3
    /usr/bin/time -f "%e %M %U %S" -o "$out/time.txt" "$@" >"$out/last.txt"
    read -r wall rss user sys < "$out/time.txt"
    printf "| %s | %s | %s | %.2f | %.0f | %.1f | %.1f |\n" "$codec" "$image" "$step" "$wall" "$((rss / 1024))" "$user" "$sys"
}
same() {  # a b: says whether two PNGs are identical
    cmp -s "$1" "$2" && echo "decode equals the encoder's reconstruction" || echo "DECODE DIFFERS from the encoder's reconstruction"
}
{
    echo "Same network (CompressAI mbt2018-mean, N=128, M=192, seed-0 weights) on both sides, $threads threads."
    echo
    echo "| codec | image | step | wall s | peak MiB | user s | sys s |"
    echo "| --- | --- | --- | ---: | ---: | ---: | ---: |"
    for image in kodim01 4k 24mp; do
        m=$out/compressai-model
        row LIC "$image" encode "$lic" encode --model "$m" --threads "$threads" "$out/$image.png" -o "$out/$image.lic" --reconstruction "$out/$image-rec.png"
        row LIC "$image" decode "$lic" decode --model "$m" --threads "$threads" "$out/$image.lic" -o "$out/$image-dec.png"
        cmp -s "$out/$image-rec.png" "$out/$image-dec.png" || echo "| LIC | $image | decode differs from the encoder's reconstruction | | | | |"
        row CompressAI "$image" encode python3 "$here/anchor_compressai.py" encode "$out/$image.png" "$out/$image.bin" "$threads"
        row CompressAI "$image" decode python3 "$here/anchor_compressai.py" decode "$out/$image.bin" "$out/$image-cai.png" "$threads"
    done
    echo
    echo "Trained model ($(basename "$model")) on the 4K image, tiled (default tiles) and untiled (--tile 0):"
    echo
    echo "| tiles | step | wall s | peak MiB | user s | sys s | result |"
    echo "| --- | --- | ---: | ---: | ---: | ---: | --- |"
    for tile in default 0; do
        option=(); [ "$tile" = default ] || option=(--tile "$tile")
        r=$(row LIC 4k encode "$lic" encode --model "$model" --threads "$threads" "${option[@]}" "$out/4k.png" -o "$out/4k-$tile.lic" --reconstruction "$out/4k-$tile-rec.png")
        echo "${r/| LIC | 4k | encode /| $tile | encode }$(cut -d, -f3,4 "$out/last.txt" | tr -d '\n') |"
        r=$(row LIC 4k decode "$lic" decode --model "$model" --threads "$threads" "$out/4k-$tile.lic" -o "$out/4k-$tile-dec.png")
        echo "${r/| LIC | 4k | decode /| $tile | decode } $(same "$out/4k-$tile-rec.png" "$out/4k-$tile-dec.png") |"
    done
} | tee "$out/big-images.md"
rm -f "$out/time.txt" "$out/last.txt"
