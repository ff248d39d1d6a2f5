#!/usr/bin/env bash
# gpu-check.sh: what the SIMT harness cannot show, on a bare CUDA machine (no
# node, no npm, no network), in one device call of at most 8 minutes: build
# the engine's tests with plain CMake for this machine's GPU only, run the GPU
# suites (ctest -L gpu), compute-sanitizer's memcheck over one short model run,
# the driver's facts (read only: it never sets clocks, power or fans), and a
# summary in $OUT/gpu-report.json with every log beside it. Each step has its
# share of the 8 minutes and is cut off at its end, so the report is always
# written. The benchmarks are scripts/gpu-bench.sh's, in calls of their own.
#
#   OUT=/tmp/out scripts/gpu-check.sh          # from the repository root
#
# Models: the tests read $KEYMATE_TEST_MODELS, by default .gpu-carry/ (copy
# ../shared/models/stories260K* there and carry it: docs/BENCHMARKS.md, "How
# the GPU numbers are made"), else ../shared/models.
# Environment: KEYMATE_CUDA_ARCHS (default: the GPU's compute capability),
# JOBS (default: all cores), SKIP_SANITIZER=1.
set -u
cd "$(dirname "$0")/.."
REPO=$PWD
OUT=${OUT:-$REPO/gpu-out}
mkdir -p "$OUT"
BUILD=$REPO/build-gpu
JOBS=${JOBS:-$(nproc 2>/dev/null || echo 4)}
log() { printf 'gpu-check: %s\n' "$*" >&2; }
status() {  # name rc -> records a step's exit status for the report
  printf '%s %s\n' "$1" "$2" >>"$OUT/steps.txt"
  log "$1: exit $2"
}
: >"$OUT/steps.txt"

if [ -z "${KEYMATE_TEST_MODELS:-}" ]; then
  if [ -d "$REPO/.gpu-carry" ]; then KEYMATE_TEST_MODELS=$REPO/.gpu-carry; else KEYMATE_TEST_MODELS=$REPO/../shared/models; fi
fi
export KEYMATE_TEST_MODELS
export KEYMATE_REQUIRE_MODELS=1  # a missing model fails the test instead of skipping it
log "models from $KEYMATE_TEST_MODELS"

# ---- the driver's facts (read only) -------------------------------------------
nvidia-smi -q >"$OUT/nvidia-smi-q.txt" 2>&1
status nvidia_smi $?
nvidia-smi --query-gpu=name,compute_cap,driver_version,memory.total,clocks.max.sm,clocks.max.mem,power.limit \
  --format=csv,noheader >"$OUT/gpu.csv" 2>/dev/null
CC=$(nvidia-smi --query-gpu=compute_cap --format=csv,noheader 2>/dev/null | head -n1 | tr -d ' .')
ARCHS=${KEYMATE_CUDA_ARCHS:-${CC:-75;80;86;89;90}}
log "architectures: $ARCHS"

# ---- build: the tests only, one architecture ----------------------------------------
START=$SECONDS
left() { echo $((480 - 30 - (SECONDS - START))); }  # seconds of the 8 minutes left, 30 kept for the report
cmake -S native -B "$BUILD" -DKEYMATE_CUDA=on "-DKEYMATE_CUDA_ARCHS=$ARCHS" -DCMAKE_BUILD_TYPE=Release \
  >"$OUT/configure.log" 2>&1
status configure $?
timeout $(( $(left) - 180 )) cmake --build "$BUILD" -j"$JOBS" --target keymate_tests >"$OUT/build.log" 2>&1
BUILD_RC=$?
status build $BUILD_RC
TESTS=$BUILD/tests/keymate_tests

# ---- the GPU suites ------------------------------------------------------------------
timeout $(( $(left) - 60 )) ctest --test-dir "$BUILD" -L gpu --output-on-failure >"$OUT/ctest-gpu.log" 2>&1
status ctest_gpu $?
grep -E '^(ok|FAIL|SKIP|XFAIL|XPASS) ' "$OUT/ctest-gpu.log" >"$OUT/gpu-tests.txt" 2>/dev/null

# ---- compute-sanitizer: one short model run --------------------------------------------
SAN=$(command -v compute-sanitizer || ls /usr/local/cuda/bin/compute-sanitizer 2>/dev/null | head -n1)
if [ -n "$SAN" ] && [ "${SKIP_SANITIZER:-0}" != 1 ] && [ "$(left)" -gt 20 ]; then
  timeout "$(left)" "$SAN" --tool memcheck --error-exitcode 99 "$TESTS" gpu_model.greedy_tokens_match_the_cpu_f32 \
    >"$OUT/memcheck-gpu_model.log" 2>&1
  status memcheck_gpu_model $?
else
  log "compute-sanitizer not found, SKIP_SANITIZER=1, or no time left: memcheck skipped"
  status memcheck_skipped 0
fi

# ---- the report ------------------------------------------------------------------------
# Plain shell, no python or node: embeds each benchmark's JSON object as is.
json_or_null() { if [ -s "$1" ] && head -c1 "$1" | grep -q '{'; then cat "$1"; else printf 'null'; fi; }
esc() { sed -e 's/\\/\\\\/g' -e 's/"/\\"/g' | tr -d '\n'; }
ctest_summary() { grep -E 'tests passed|tests failed' "$1" 2>/dev/null | tail -n1 | esc; }
{
  printf '{\n'
  printf '  "commit": "%s",\n' "$(git -C "$REPO" rev-parse HEAD 2>/dev/null || echo unknown)"
  printf '  "dirty": %s,\n' "$( [ -n "$(git -C "$REPO" status --porcelain 2>/dev/null)" ] && echo true || echo false)"
  printf '  "date": "%s",\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)"
  printf '  "gpu": "%s",\n' "$(head -n1 "$OUT/gpu.csv" 2>/dev/null | esc)"
  printf '  "archs": "%s",\n' "$ARCHS"
  printf '  "steps": {'
  first=1
  while read -r name rc; do
    [ $first = 1 ] || printf ','
    first=0
    printf '\n    "%s": %s' "$name" "$rc"
  done <"$OUT/steps.txt"
  printf '\n  },\n'
  printf '  "ctest_gpu": "%s",\n' "$(ctest_summary "$OUT/ctest-gpu.log")"
  printf '  "seconds": %s,\n' "$((SECONDS - START))"
  printf '  "tests": "%s"\n' "$(tr '\n' ';' <"$OUT/gpu-tests.txt" 2>/dev/null | esc)"
  printf '}\n'
} >"$OUT/gpu-report.json"
log "report: $OUT/gpu-report.json"
# Exit status: the build and the GPU tests decide; the rest is in the report.
[ "$BUILD_RC" = 0 ] && grep -q '^ctest_gpu 0$' "$OUT/steps.txt"
