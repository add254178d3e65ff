#!/usr/bin/env bash
# The researcher's workflow with an entropy model of one's own, end to end:
# build this package (one command), load the plugin through LIC_PLUGIN_PATH,
# see it in `lic plugins`, train scale-prior.toml for a few steps, encode an
# image and decode it, and check the decoder reproduced the encoder's
# reconstruction bit for bit. Exits non-zero on any failure (CI runs it).
# Usage: examples/swift-entropy-plugin/run.sh [LIC]   (default: the checkout's .build/debug/lic, else .build/release/lic)
# Needs Pillow in python3 (or in $PYTHON) for the training crops.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
lic=${1:-}
if [[ -z "$lic" ]]; then
    for candidate in "$root/.build/debug/lic" "$root/.build/release/lic"; do
        if [[ -x "$candidate" ]]; then lic=$candidate; break; fi
    done
fi
[[ -x "$lic" ]] || { echo "run.sh: no lic executable; run 'swift build' in $root first" >&2; exit 1; }

# 1. Build: the plugin library and the LICPluginKit it links, nothing else of the toolkit.
swift build -c release --package-path "$here" --scratch-path "$here/.build" --product lic-example-scale-prior >&2
export LIC_PLUGIN_PATH="$(swift build -c release --package-path "$here" --scratch-path "$here/.build" --show-bin-path)"

# 2. The host sees the component and its schema.
listing=$("$lic" plugins)
[[ "$listing" == *"example.entropy.scale-prior"* ]] || { echo "run.sh: lic plugins does not list example.entropy.scale-prior" >&2; exit 1; }

# 3. Train a few steps, then code a held-out crop of the sample image.
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir "$work/data"
"${PYTHON:-python3}" - "$root/examples/images/kodim23.png" "$work" <<'PY'
import sys
try:
    from PIL import Image
except ImportError:
    sys.exit("run.sh needs Pillow for the training crops: pip install Pillow (or set PYTHON to a Python that has it)")
image = Image.open(sys.argv[1]).convert("RGB")
for index in range(3):
    left, top = 40 + 97 * index, 30 + 53 * index
    image.crop((left, top, left + 128, top + 128)).save(f"{sys.argv[2]}/data/crop{index}.png")
image.crop((500, 300, 692, 492)).save(f"{sys.argv[2]}/held-out.png")
PY
"$lic" train --pipeline "$here/scale-prior.toml" --data "$work/data" --lambda 0.01 --out "$work/model" \
    --steps 30 --batch 2 --crop 64 --lr 1e-3 --log-every 10
"$lic" encode --model "$work/model" "$work/held-out.png" -o "$work/a.lic" --reconstruction "$work/rec.png"
"$lic" decode --model "$work/model" "$work/a.lic" -o "$work/dec.png" --reference "$work/held-out.png"
cmp "$work/rec.png" "$work/dec.png"
echo "run.sh: the example plugin trained, coded and decoded exactly"
