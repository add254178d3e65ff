#!/usr/bin/env bash
# Ablation of one training regularizer: the architecture its paper used,
# trained without it (seeds 0 and 1: their difference is what the run can
# resolve) and with it (seed 0), the same recipe and the same number of
# steps, at each lambda; then every model coded on a folder (Kodak) and the
# BD-rate of regularized against baseline, with the training time per step.
#
# Usage: benchmarks/regularizers/run.sh REGULARIZER KODAK OUT [STEPS] [LAMBDAS]
#   REGULARIZER: correlation (mbt2018-mean), conditional-entropy
#                (mbt2018-mean), cca (channel-wise, power-1.7 groups)
#   STEPS (default 4000) and LAMBDAS (default "0.0018 0.0067 0.025")
#   TRAIN_DIR (default ../shared/data/train), BATCH (8), CROP (128),
#   LIC_THREADS (engine threads per process; two ablations side by side with
#   LIC_THREADS=1 use 2 cores better than one with 2 threads), LIC (a lic
#   binary with its plugins beside it; default: a release build of this
#   checkout - give a copy when you keep building while it runs)
# Resumable: a finished model is kept; one cut off resumes (its time then
# does not count towards seconds per step). --seed varies crops, flips and
# quantization noise; the weights start from the descriptors' seeds.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
regularizer=$1 kodak=$2 out=$3
steps=${4:-4000}
lambdas=${5:-"0.0018 0.0067 0.025"}
train=${TRAIN_DIR:-$root/../shared/data/train}
case $regularizer in
    correlation) baseline=mbt2018-mean regularized=mbt2018-mean-correlation ;;
    conditional-entropy) baseline=mbt2018-mean regularized=mbt2018-mean-conditional-entropy ;;
    cca) baseline=channelwise-power regularized=channelwise-power-cca ;;
    *) echo "usage: $0 correlation|conditional-entropy|cca KODAK OUT [STEPS] [LAMBDAS]" >&2; exit 2 ;;
esac
lic=${LIC:-}
if [ -z "$lic" ]; then
    (cd "$root" && swift build -c release >/dev/null)
    lic=$root/.build/release/lic
fi
mkdir -p "$out"
run() {  # run NAME PIPELINE SEED LAMBDA
    local dir=$out/$1
    # train-seconds marks a finished run: "SECONDS STEPS" (STEPS 0 when it was resumed: its time is partial).
    if [ ! -f "$dir/train-seconds" ]; then
        local resume=() pipeline=(--pipeline "$root/examples/pipelines/$2.toml") counted=$steps
        [ -f "$dir/model.toml" ] && { resume=(--resume); pipeline=(); counted=0; }
        local start=$(date +%s)
        nice "$lic" train "${pipeline[@]}" "${resume[@]}" --data "$train" --lambda "$4" --steps "$steps" --seed "$3" \
            --batch "${BATCH:-8}" --crop "${CROP:-128}" --lr 1e-3 --schedule "cosine:$steps:0.05,warmup:100" \
            --log-every 50 --out "$dir" >&2
        echo "$(( $(date +%s) - start )) $counted" > "$dir/train-seconds"
    fi
    [ -f "$out/$1.json" ] || nice "$lic" eval --model "$dir" --data "$kodak" --json "$out/$1.json" >/dev/null
}
for lambda in $lambdas; do
    run "baseline-s0-$lambda" "$baseline" 0 "$lambda"
    run "baseline-s1-$lambda" "$baseline" 1 "$lambda"
    run "$regularizer-s0-$lambda" "$regularized" 0 "$lambda"
done
python3 "$root/benchmarks/regularizers/summarize.py" "$out" "$regularizer"
