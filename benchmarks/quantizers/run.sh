#!/usr/bin/env bash
# Quantizers on one trained model: Kodak rate-distortion and coding time for
# rounding, RDO rounding, TCQ-4 and TCQ-8, each as a small curve (a sweep of
# step or lambda, all from the same weights), BD-rate against rounding.
# Each variant is the model directory with only its [quantizer] changed
# (TCQ variants keep rounding for the hyper-latent: [hyper.entropy.quantizer]).
# With FINETUNE_STEPS=N and TRAIN_DIR=DIR, the middle point of each family is
# also fine-tuned (lic finetune: the synthesis on that quantizer's real
# latents, N steps, batch 8 of 128x128, Adam 1e-4) and measured again.
# Usage: [FINETUNE_STEPS=N TRAIN_DIR=DIR] benchmarks/quantizers/run.sh MODEL_DIR KODAK_DIR [OUT_DIR]
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
model=$(cd "$1" && pwd); kodak=$2; out=${3:-$(mktemp -d)}
mkdir -p "$out"
cd "$root"
swift build -c release >/dev/null
export LIC_THREADS=2 OMP_NUM_THREADS=2

variant() {  # NAME QUANTIZER_TOML
    local name=$1 section=$2 dir="$out/$1"
    mkdir -p "$dir"
    ln -sf "$model/weights.safetensors" "$dir/weights.safetensors"
    # The model's descriptor without its quantizer sections, then the variant's.
    python3 - "$model/model.toml" "$section" > "$dir/model.toml" <<'PY'
import sys
text, section = open(sys.argv[1]).read(), sys.argv[2]
kept, skipping = [], False
for line in text.splitlines():
    if line.startswith("["):
        skipping = line.strip() in ("[quantizer]", "[hyper.entropy.quantizer]")
    if not skipping:
        kept.append(line)
print("\n".join(kept) + "\n" + section)
PY
    .build/release/lic eval --model "$dir" --data "$kodak" --json "$out/$name.json" | tail -1 | sed "s/^/$name: /"
}

uniform() { printf '[quantizer]\nplugin = "lic.quantizer.uniform"\nstep = %s\n%s' "$1" "${2:-}"; }
tcq() { printf '[quantizer]\nplugin = "lic.quantizer.tcq"\nstates = %s\nstep = %s\nlambda = %s\n[hyper.entropy.quantizer]\nplugin = "lic.quantizer.uniform"\n' "$1" "$2" "$3"; }

for step in 0.85 1.0 1.2; do variant "round-$step" "$(uniform $step)"; done
for lambda in 0.05 0.15; do variant "rdo-$lambda" "$(uniform 1.0 "rdo = true
lambda = $lambda
")"; done
for states in 4 8; do
    for step in 0.6 0.75 0.9; do
        variant "tcq$states-$step" "$(tcq $states $step "$(python3 -c "print(round(0.15 * $step * $step, 4))")")"
    done
done
if [ "${FINETUNE_STEPS:-0}" -gt 0 ]; then
    for middle in round-1.0 rdo-0.05 tcq4-0.75 tcq8-0.75; do
        tuned="$out/tuned/$middle"
        .build/release/lic finetune --model "$out/$middle" --data "$TRAIN_DIR" --out "$tuned" --steps "$FINETUNE_STEPS" \
            --batch 8 --crop 128 --lr 1e-4 --log-every 50 2>&1 | tail -1 | sed "s/^/$middle fine-tuning: /"
        .build/release/lic eval --model "$tuned" --data "$kodak" --json "$out/tuned/$middle.json" | tail -1 | sed "s/^/$middle tuned: /"
    done
fi
python3 "$root/benchmarks/quantizers/summarize.py" "$out"
