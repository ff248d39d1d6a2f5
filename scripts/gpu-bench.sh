#!/usr/bin/env bash
# The GPU execution paths' acceptance table (TTFT, decode, bandwidth against
# peers), measured on a bare GPU machine (no network, no
# node): every row from one session's runs, into $OUT/gpu-bench.json (and
# $OUT/gpu-bench.log). scripts/gpu_bench_report.py makes the rows and says how.
#
# A device call may run 10 minutes, and the whole table takes longer, so the
# work is cut into phases, one per call, each well inside the limit. Their
# results accumulate in build-gpubench/ (git-ignored; kept on the machine
# between calls while it stays warm: issue the next call at once), every phase
# is idempotent (what exists is not redone) and every phase ends by writing
# the table so far to $OUT/gpu-bench.json.
#
#   phase     does                                                         expected
#   build     keymate_bench for sm_90; llama.cpp's llama-bench with CUDA    ~8 min (16 cores)
#   models    keymate synth: llama2-7b and llama3.2-1b, f16 and q8_0 GGUFs  ~4 min (25 GB of disk)
#   keymate   doorbell; 7B fp8 and 1B fp8 on the launch, graph and           ~6 min
#             zero-launch paths; TTFT at --gen-tokens 1; the L2 window on
#   peers     llama-bench Q8_0 and F16 (7B, 1B); PyTorch eager and compiled  ~6 min
#   report    copy bandwidth (for the projection), the table                 <1 min
#
# usage: scripts/gpu-bench.sh PHASE...     (e.g. one call: scripts/gpu-bench.sh build)
#        scripts/gpu-bench.sh all           (all phases in order: only where there is no call limit)
# Carry (on this machine, once; the folder is git-ignored, ~45 MB of the 64 MiB a call may carry):
#   mkdir -p .gpu-carry/vocab
#   cp ../shared/models/vocab/ggml-vocab-llama-{spm,bpe}.gguf .gpu-carry/vocab/   # synth's vocabularies
#   cp <node-llama-cpp>/llama/gitRelease.bundle .gpu-carry/                        # the llama.cpp source
# and pass carry: [".gpu-carry"] to every call.
# env: KM_GPU_ARCH (default: from nvidia-smi, else 90), KM_REPEAT (timed runs, default 10)
set -uo pipefail
[[ $# -gt 0 ]] || { sed -n '2,31p' "$0" >&2; exit 2; }

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
state="$root/build-gpubench"
results="$state/results"
models="$state/models"
out="${OUT:-$state/out}"
mkdir -p "$results" "$models" "$out"
log="$out/gpu-bench.log"
[[ -f $state/log ]] && cp "$state/log" "$log"
exec > >(tee -a "$state/log" "$log") 2>&1

arch="${KM_GPU_ARCH:-$(nvidia-smi --query-gpu=compute_cap --format=csv,noheader 2>/dev/null | head -1 | tr -d '. ')}"
arch="${arch:-90}"
repeat="${KM_REPEAT:-10}"
bench="$state/native/bench/keymate_bench"
[[ -d $root/.gpu-carry/vocab ]] && export KEYMATE_VOCAB_DIR="${KEYMATE_VOCAB_DIR:-$root/.gpu-carry/vocab}"
llama_bench="$root/build-peers/llama.cpp/build-cuda/bin/llama-bench"

say() { echo "gpu-bench: $(date +%T) $*"; }

# run NAME CMD...: runs once; its stdout goes to results/NAME.out and its last
# line (one JSON object) to results/NAME.json.
run() {
  local name="$1"; shift
  if [[ -s $results/$name.json ]]; then say "$name: done before"; return 0; fi
  say "$name: $*"
  local t0=$SECONDS tmp="$results/$name.tmp"
  if "$@" >"$tmp" 2>"$results/$name.err"; then
    mv "$tmp" "$results/$name.out"
    rm -f "$results/$name.failed"
    tail -n 1 "$results/$name.out" >"$results/$name.json"
    say "$name: $((SECONDS - t0)) s: $(cut -c1-240 "$results/$name.json")"
  else
    say "$name: FAILED after $((SECONDS - t0)) s: $(tail -n 3 "$results/$name.err" | tr '\n' ' ')"
    echo "{\"error\": $(tail -n 3 "$results/$name.err" | python3 -c 'import json,sys; print(json.dumps(sys.stdin.read()))')}" \
      >"$results/$name.failed"
  fi
  rm -f "$tmp"
}

phase_build() {
  if [[ ! -x $bench ]]; then
    say "building keymate_bench for sm_$arch"
    cmake -S "$root/native" -B "$state/native" -DKEYMATE_CUDA=on -DKEYMATE_CUDA_ARCHS="$arch" \
      -DCMAKE_BUILD_TYPE=Release >"$state/cmake.log" 2>&1 || { tail -20 "$state/cmake.log"; return 1; }
    cmake --build "$state/native" -j"$(nproc)" --target keymate_bench >>"$state/cmake.log" 2>&1 ||
      { grep -E "error|Error" "$state/cmake.log" | head -20; return 1; }
  fi
  say "keymate_bench: $bench"
  [[ -x $llama_bench ]] || "$root/scripts/peers/build-llama-cuda.sh" --arch "$arch" >/dev/null ||
    say "llama.cpp peer: build FAILED (the table will lack its rows)"
}

phase_models() {
  local shape type
  for shape in llama2-7b llama3.2-1b; do
    for type in f16 q8_0; do
      local f="$models/$shape-$type.gguf"
      [[ -s $f ]] && continue
      say "synth $shape $type"
      "$bench" synth --shape "$shape" --type "$type" --seed 0 --out "$f" || say "synth $shape $type FAILED"
    done
  done
  df -h "$models" | tail -1
}

kbench() {  # kbench MODEL FORMAT PATH GEN [env...]
  local m="$1" w="$2" p="$3" g="$4"; shift 4
  env "$@" "$bench" --model "$m" --backend cuda --weights "$w" --path "$p" --prompt-tokens 128 --gen-tokens "$g" \
    --repeat "$repeat"
}

phase_keymate() {
  run doorbell "$bench" doorbell --rings 10000 --json
  local m7="$models/llama2-7b-f16.gguf" m1="$models/llama3.2-1b-f16.gguf" p
  run km-7b-fp8-gen1-zero-launch kbench "$m7" fp8 zero-launch 1
  for p in zero-launch graph launch; do
    run "km-7b-fp8-gen128-$p" kbench "$m7" fp8 "$p" 128
    run "km-1b-fp8-gen128-$p" kbench "$m1" fp8 "$p" 128
  done
  run km-7b-fp8-gen128-zero-launch-l2 kbench "$m7" fp8 zero-launch 128 KEYMATE_L2_WINDOW=on
  run km-1b-fp8-gen128-zero-launch-l2 kbench "$m1" fp8 zero-launch 128 KEYMATE_L2_WINDOW=on
  run km-1b-fp8-gen128-zero-launch-2bpsm kbench "$m1" fp8 zero-launch 128 KEYMATE_ZL_BLOCKS_PER_SM=2
}

phase_peers() {
  local shape type
  if [[ -x $llama_bench ]]; then
    for shape in llama2-7b llama3.2-1b; do
      for type in q8_0 f16; do
        run "llama-$shape-$type" "$llama_bench" -m "$models/$shape-$type.gguf" -ngl 99 -p 128 -n 128 -r 5 -o jsonl
      done
    done
  else
    say "no llama-bench: run the build phase"
  fi
  run torch-7b-f16 env PYTHONUNBUFFERED=1 python3 "$root/scripts/peers/torch_llama.py" \
    --model "$models/llama2-7b-f16.gguf" --prompt-tokens 128 --gen-tokens 128 --repeat 5
  run torch-1b-f16 env PYTHONUNBUFFERED=1 python3 "$root/scripts/peers/torch_llama.py" \
    --model "$models/llama3.2-1b-f16.gguf" --prompt-tokens 128 --gen-tokens 128 --repeat 5
}

phase_report() {
  run copy-bandwidth python3 -c '
import json, torch
n = 1 << 30  # 1 GiB per buffer: far above L2
a = torch.empty(n, dtype=torch.uint8, device="cuda"); b = torch.empty_like(a)
for _ in range(3): b.copy_(a)
e0, e1 = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
e0.record()
for _ in range(20): b.copy_(a)
e1.record(); torch.cuda.synchronize()
s = e0.elapsed_time(e1) / 1e3 / 20
print(json.dumps({"gb_s": 2 * n / s / 1e9, "bytes": n, "device": torch.cuda.get_device_name()}))'
  run gpu python3 -c '
import json, subprocess
q = "name,driver_version,clocks.max.sm,clocks.max.mem,power.limit,temperature.gpu"
v = subprocess.run(["nvidia-smi", "--query-gpu=" + q, "--format=csv,noheader"], capture_output=True, text=True,
                   check=True).stdout.strip().splitlines()[0]
print(json.dumps(dict(zip(q.split(","), [x.strip() for x in v.split(",")]))))'
}

write_table() {
  python3 "$root/scripts/gpu_bench_report.py" "$results" >"$out/gpu-bench.json" ||
    say "the table could not be written (see above)"
  cp "$out/gpu-bench.json" "$state/gpu-bench.json" 2>/dev/null
  say "table: $out/gpu-bench.json"
}

phases=("$@")
[[ ${phases[0]} == all ]] && phases=(build models keymate peers report)
for ph in "${phases[@]}"; do
  case "$ph" in
    build|models|keymate|peers|report) ;;
    *) echo "gpu-bench: unknown phase $ph (build, models, keymate, peers, report, all)" >&2; exit 2 ;;
  esac
  [[ $ph == build || -x $bench ]] || { say "no keymate_bench: run the build phase first"; exit 1; }
  t0=$SECONDS
  "phase_$ph"
  say "phase $ph: $((SECONDS - t0)) s"
done
write_table
