#!/usr/bin/env bash
# A shipped model (models/NAME) as a user meets it:
#  1. rate-distortion on a folder (Kodak) at qualities 1-8 against JPEG, WebP
#     and AVIF at several qualities each, with BD-rates and the plot
#     (tools/rd_report.py: OUT/rd.md, rd.json, rd.svg);
#  2. its learning curve (tools/learning_curve.py on MODEL/train.jsonl);
#  3. `lic encode` / `lic decode` of one image as whole processes: wall time
#     and peak memory (GNU time), median of 5, at the default quality.
# Usage: benchmarks/shipped-model/run.sh MODEL KODAK_DIR OUT_DIR [IMAGE]   (IMAGE default KODAK_DIR/kodim01.png)
# Needs a release build (swift build -c release) and pip install -r tools/requirements-rd.txt.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
usage="usage: run.sh MODEL KODAK_DIR OUT_DIR [IMAGE]"
model=${1:?$usage}; data=${2:?$usage}; out=${3:?$usage}
image=${4:-$data/kodim01.png}
lic=$root/.build/release/lic
[ -x "$lic" ] || { echo "run.sh: $lic is missing; run 'swift build -c release' first" >&2; exit 1; }
[ -f "$model/model.toml" ] || { echo "run.sh: $model is not a model directory" >&2; exit 1; }
mkdir -p "$out"

python3 "$root/tools/rd_report.py" --lic "$lic" --model "$model" --data "$data" --out "$out" --qualities 1,2,3,4,5,6,7,8
if [ -f "$model/train.jsonl" ]; then
    python3 "$root/tools/learning_curve.py" "$model/train.jsonl" --out "$out"
fi

# Whole processes: median wall seconds and peak RSS of 5 runs each.
measure() {  # label, command...
    local label=$1; shift
    for run in 1 2 3 4 5; do
        /usr/bin/time -f "%e %M" -o "$out/time.txt" "$@" >/dev/null
        cat "$out/time.txt"
    done | sort -n | sed -n 3p | awk -v label="$label" '{ printf "| %s | %.3f | %.0f |\n", label, $1, $2 / 1024 }'
}
{
    echo "| process ($(basename "$image"), default quality) | median wall s | peak MiB |"
    echo "| --- | ---: | ---: |"
    measure "lic encode" "$lic" encode --model "$model" "$image" -o "$out/one.lic"
    measure "lic decode" "$lic" decode --model "$model" "$out/one.lic" -o "$out/one.png"
} | tee "$out/processes.md"
rm -f "$out/time.txt"
