#!/usr/bin/env bash
# fuzz/run.sh TARGET SECONDS [libFuzzer options...]
#
# Builds the harness fuzz-TARGET (once; later calls are incremental) with
# -sanitize=fuzzer,address into fuzz/.build-fuzz, runs it for SECONDS on the
# committed seed corpus fuzz/corpus/TARGET plus its working corpus
# fuzz/.work/corpus/TARGET (new inputs go there, not into git), and prints
# one summary line: executions, coverage, crashes. Crash, leak, timeout and
# out-of-memory inputs are written to fuzz/.work/artifacts/. Exit status:
# libFuzzer's (0 when nothing was found).
#   TARGET: container toml png decode-classical decode-bmshj2018-factorized
#           decode-bmshj2018-hyperprior decode-mbt2018-mean
#           decode-mbt2018-checkerboard decode-mbt2018-mean-tcq
#           decode-channelwise-power decode-mbt2018
#           decode-cheng2020-anchor-checkerboard decode-elic2022-official, or "list"
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
targets="container toml png decode-classical decode-bmshj2018-factorized decode-bmshj2018-hyperprior decode-mbt2018-mean decode-mbt2018-checkerboard decode-mbt2018-mean-tcq decode-channelwise-power decode-mbt2018 decode-cheng2020-anchor-checkerboard decode-elic2022-official"
if [[ "${1:-}" == list ]]; then echo "$targets"; exit 0; fi
if [[ $# -lt 2 ]] || ! [[ " $targets " == *" $1 "* ]] || ! [[ "$2" =~ ^[0-9]+$ ]]; then
    echo "usage: fuzz/run.sh TARGET SECONDS [libFuzzer options...]; TARGET one of: $targets" >&2
    exit 2
fi
target=$1 seconds=$2
shift 2
# Harness products are named by the short pipeline name.
product=fuzz-${target/bmshj2018-/}
product=${product/mbt2018-/}

# SwiftPM passes each --sanitize to swiftc as its own -sanitize= flag, and
# swiftc keeps only the last: without the combined flag the Swift code gets
# ASan but no coverage (C code gets both either way).
build=(swift build -c release --package-path "$here/LICFuzz" --scratch-path "$here/.build-fuzz"
       --sanitize=fuzzer --sanitize=address -Xswiftc -sanitize=fuzzer,address)
nice "${build[@]}" --product "$product" >&2
binary=$("${build[@]}" --show-bin-path)/$product

work=$here/.work
mkdir -p "$work/corpus/$target" "$work/artifacts" "$work/logs"
log=$work/logs/$target.log
# Swift's own crash backtracer would run inside ASan's and libFuzzer's
# handlers; let them report traps. One thread: the machine is shared and
# results stay reproducible.
export SWIFT_BACKTRACE=enable=no LIC_THREADS=1 OMP_NUM_THREADS=1
export ASAN_OPTIONS=${ASAN_OPTIONS:-allocator_may_return_null=1:detect_leaks=0}
status=0
nice "$binary" -max_total_time="$seconds" -timeout=10 -print_final_stats=1 \
    -artifact_prefix="$work/artifacts/$target-" "$@" \
    "$work/corpus/$target" "$here/corpus/$target" >"$log" 2>&1 || status=$?

executions=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | tail -1 | grep -o '[0-9]*$' || true)
coverage=$(grep -o 'cov: [0-9]*' "$log" | tail -1 | grep -o '[0-9]*$' || true)
features=$(grep -o 'ft: [0-9]*' "$log" | tail -1 | grep -o '[0-9]*$' || true)
corpus=$(grep -o 'corp: [0-9]*' "$log" | tail -1 | grep -o '[0-9]*$' || true)
crashes=$(grep -c '^artifact_prefix=.*Test unit written to' "$log" || true)
echo "$target: ${executions:-0} executions in ${seconds} s, coverage ${coverage:-0} edges (${features:-0} features), corpus ${corpus:-0}, crashes ${crashes:-0}, exit $status (log: $log)"
if [[ $status -ne 0 ]]; then tail -40 "$log" >&2; fi
exit $status
