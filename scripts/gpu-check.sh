#!/usr/bin/env bash
# gpu-check.sh: everything the GPU acceptance needs, on a bare CUDA machine
# (no node, no npm, no network): configure native/ with plain CMake for this
# machine's GPU, build, run the GPU tests and the CPU tests, compute-sanitizer
# (memcheck over the GPU tests, racecheck over the op tests), the kernel and
# end-to-end benchmarks, energy per reply (NVML), the driver's facts (read
# only: it never sets clocks, power or fans), and a summary in
# $OUT/gpu-report.json with every log beside it.
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

# ---- build ---------------------------------------------------------------------------
cmake -S native -B "$BUILD" -DKEYMATE_CUDA=on "-DKEYMATE_CUDA_ARCHS=$ARCHS" -DCMAKE_BUILD_TYPE=Release \
  >"$OUT/configure.log" 2>&1
status configure $?
cmake --build "$BUILD" -j"$JOBS" >"$OUT/build.log" 2>&1
BUILD_RC=$?
status build $BUILD_RC
TESTS=$BUILD/tests/keymate_tests
BENCH=$BUILD/bench/keymate_bench

# ---- tests ---------------------------------------------------------------------------
ctest --test-dir "$BUILD" -L gpu --output-on-failure --timeout 900 >"$OUT/ctest-gpu.log" 2>&1
status ctest_gpu $?
ctest --test-dir "$BUILD" -L cpu --output-on-failure --timeout 900 -j"$JOBS" >"$OUT/ctest-cpu.log" 2>&1
status ctest_cpu $?
"$TESTS" gpu_ops >"$OUT/gpu_ops.log" 2>&1
status gpu_ops $?
"$TESTS" gpu_model >"$OUT/gpu_model.log" 2>&1
status gpu_model $?

# ---- compute-sanitizer -------------------------------------------------------------
SAN=$(command -v compute-sanitizer || ls /usr/local/cuda/bin/compute-sanitizer 2>/dev/null | head -n1)
if [ -n "$SAN" ] && [ "${SKIP_SANITIZER:-0}" != 1 ]; then
  for group in gpu_ops gpu_model gpu_matmul; do
    timeout 1200 "$SAN" --tool memcheck --error-exitcode 99 --leak-check full "$TESTS" "$group" \
      >"$OUT/memcheck-$group.log" 2>&1
    status "memcheck_$group" $?
  done
  timeout 1200 "$SAN" --tool racecheck --error-exitcode 99 "$TESTS" gpu_ops >"$OUT/racecheck-gpu_ops.log" 2>&1
  status racecheck_gpu_ops $?
else
  log "compute-sanitizer not found (or SKIP_SANITIZER=1): sanitizer runs skipped"
  status memcheck_skipped 0
fi

# ---- benchmarks ----------------------------------------------------------------------
"$BENCH" gpu-kernels --json >"$OUT/gpu-kernels.json" 2>"$OUT/gpu-kernels.log"
status bench_gpu_kernels $?
for path in launch graph zero-launch; do
  path_arg=()
  [ "$path" = launch ] || path_arg=(--path "$path")  # launch is the default: no flag needed
  "$BENCH" --model "$KEYMATE_TEST_MODELS/stories260K.gguf" --backend cuda "${path_arg[@]}" --prompt-tokens 128 \
    --gen-tokens 64 --repeat 5 >"$OUT/bench-stories260K-$path.json" 2>"$OUT/bench-stories260K-$path.log"
  status "bench_stories260K_$path" $?
done
for shape in llama3.2-1b llama2-7b; do
  "$BENCH" --synthetic "$shape" --type q8_0 --backend cuda --prompt-tokens 128 --gen-tokens 32 --repeat 3 \
    >"$OUT/bench-$shape-q8_0.json" 2>"$OUT/bench-$shape-q8_0.log"
  status "bench_${shape}_q8_0" $?
done
# Energy per reply through NVML while the 1B shape generates (read only: no NVML setter is called).
"$BENCH" energy --synthetic llama3.2-1b --type q8_0 --backend cuda --prompt-tokens 128 --gen-tokens 256 \
  --replies 10 --json >"$OUT/energy-llama3.2-1b-q8_0.json" 2>"$OUT/energy-llama3.2-1b-q8_0.log"
status energy_llama3.2-1b_q8_0 $?

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
  printf '  "ctest_cpu": "%s",\n' "$(ctest_summary "$OUT/ctest-cpu.log")"
  printf '  "gpu_ops": "%s",\n' "$(tail -n1 "$OUT/gpu_ops.log" 2>/dev/null | esc)"
  printf '  "gpu_model": "%s",\n' "$(tail -n1 "$OUT/gpu_model.log" 2>/dev/null | esc)"
  printf '  "gpu_kernels": %s,\n' "$(json_or_null "$OUT/gpu-kernels.json")"
  printf '  "energy": %s,\n' "$(json_or_null "$OUT/energy-llama3.2-1b-q8_0.json")"
  printf '  "bench": {\n'
  printf '    "stories260K_launch": %s,\n' "$(json_or_null "$OUT/bench-stories260K-launch.json")"
  printf '    "stories260K_graph": %s,\n' "$(json_or_null "$OUT/bench-stories260K-graph.json")"
  printf '    "stories260K_zero_launch": %s,\n' "$(json_or_null "$OUT/bench-stories260K-zero-launch.json")"
  printf '    "llama3.2-1b_q8_0": %s,\n' "$(json_or_null "$OUT/bench-llama3.2-1b-q8_0.json")"
  printf '    "llama2-7b_q8_0": %s\n' "$(json_or_null "$OUT/bench-llama2-7b-q8_0.json")"
  printf '  }\n}\n'
} >"$OUT/gpu-report.json"
log "report: $OUT/gpu-report.json"
# Exit status: the build and the GPU tests decide; the rest is in the report.
[ "$BUILD_RC" = 0 ] && grep -q '^ctest_gpu 0$' "$OUT/steps.txt"
