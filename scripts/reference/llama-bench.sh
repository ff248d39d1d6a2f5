#!/usr/bin/env bash
# Runs llama.cpp's llama-bench on one model and prints its JSON (-o json) on
# stdout: the yardstick for `keymate bench` in docs/BENCHMARKS.md. Defaults
# mirror keymate bench (128 prompt tokens) so the two are read side by side;
# anything after -- goes to llama-bench unchanged (e.g. -fa on, -ngl 0, -r 10).
#
# usage: scripts/reference/llama-bench.sh MODEL [THREADS] [-- llama-bench args...]
#   THREADS   default 2
# env: KM_LLAMA_DIR   (default scripts/reference/llama.cpp)
#      KM_LLAMA_BUILD build folder to use (default $KM_LLAMA_DIR/build, the CPU
#                     build; $KM_LLAMA_DIR/build-cuda for the GPU)
# Each JSON record carries avg_ts/stddev_ts (tokens/s) for one test:
# n_prompt>0 is prefill (pp128), n_gen>0 is decode (tg128).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
llama_dir="${KM_LLAMA_DIR:-$here/llama.cpp}"
build="${KM_LLAMA_BUILD:-$llama_dir/build}"
bench="$build/bin/llama-bench"

if [[ $# -lt 1 || $1 == -h || $1 == --help ]]; then sed -n '2,13p' "$0" >&2; exit 2; fi
model="$1"; shift
threads=2
if [[ $# -gt 0 && $1 != -- ]]; then threads="$1"; shift; fi
if [[ $# -gt 0 ]]; then
  [[ $1 == -- ]] || { echo "llama-bench.sh: expected -- before llama-bench arguments, got $1" >&2; exit 2; }
  shift
fi
[[ -f $model ]] || { echo "llama-bench.sh: $model: no such model file" >&2; exit 1; }
[[ -x $bench ]] || { echo "llama-bench.sh: $bench: not built (run scripts/reference/build-llama.sh)" >&2; exit 1; }
[[ $threads =~ ^[0-9]+$ && $threads -gt 0 ]] || { echo "llama-bench.sh: THREADS must be a positive integer" >&2; exit 2; }

# llama-bench runs every value a flag is given, so a default is added only when
# the caller did not pass that flag.
defaults=()
has() { local f; for f in "${@:2}"; do [[ $f == "$1" ]] && return 0; done; return 1; }
has -p "$@" || has --n-prompt "$@" || defaults+=(-p 128)
has -n "$@" || has --n-gen "$@" || defaults+=(-n 128)
has -r "$@" || has --repetitions "$@" || defaults+=(-r 5)
exec "$bench" -m "$model" -t "$threads" "${defaults[@]}" -o json "$@"
