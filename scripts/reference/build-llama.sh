#!/usr/bin/env bash
# Builds the reference: llama.cpp exactly as node-llama-cpp bundles it (its
# gitRelease.bundle, so the golden files name one fixed source), the llama.cpp
# tools we compare against (llama-completion, llama-bench, llama-tokenize,
# llama-perplexity, llama-quantize for the K-quant files, llama-imatrix for
# their importance-weighted variants, llama-server as the
# remote OpenAI-compatible engine) and our own km-dump-logits (dump_logits.cpp, linked to the
# libllama of that build).
#
# A CPU build always; a second one with -DGGML_CUDA=ON when nvcc and a GPU are
# both present (or --cuda on). The CUDA build lives in its own folder so the CPU
# reference is never replaced by it.
#
# usage: scripts/reference/build-llama.sh [--cuda auto|on|off] [--clone-only]
# env:   KM_LLAMA_DIR  where the llama.cpp tree is or goes
#                      (default: scripts/reference/llama.cpp, git-ignored)
#        JOBS          parallel build jobs (default 2)
# out:   $KM_LLAMA_DIR/build/bin/{llama-*,km-dump-logits}        (CPU)
#        $KM_LLAMA_DIR/build-cuda/bin/{llama-*,km-dump-logits}   (CUDA)
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
llama_dir="${KM_LLAMA_DIR:-$here/llama.cpp}"
jobs="${JOBS:-2}"
cuda=auto
clone_only=0

while [[ $# -gt 0 ]]; do
  case "$1" in
    --cuda) cuda="${2:?--cuda needs auto, on or off}"; shift 2 ;;
    --clone-only) clone_only=1; shift ;;
    -h|--help) sed -n '2,19p' "$0"; exit 0 ;;
    *) echo "build-llama.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done
case "$cuda" in auto|on|off) ;; *) echo "build-llama.sh: --cuda must be auto, on or off" >&2; exit 2 ;; esac

tools=(llama-completion llama-bench llama-tokenize llama-perplexity llama-quantize llama-imatrix llama-server)

# 0. What CUDA this machine offers; decided before any building.
have_gpu=0
if command -v nvcc >/dev/null && command -v nvidia-smi >/dev/null && nvidia-smi -L 2>/dev/null | grep -q '^GPU'; then
  have_gpu=1
fi
# llama.cpp's CUDA backend links cuBLAS, which an nvcc-only toolkit lacks.
have_cublas=0
if command -v nvcc >/dev/null; then
  cuda_root="$(dirname "$(dirname "$(readlink -f "$(command -v nvcc)")")")"
  for inc in "$cuda_root/include" "$cuda_root"/targets/*/include /usr/include; do
    [[ -f $inc/cublas_v2.h ]] && have_cublas=1
  done
fi
if [[ $cuda == on && $have_cublas == 0 ]]; then
  echo "build-llama.sh: --cuda on: no cublas_v2.h next to nvcc; install the CUDA toolkit's cuBLAS" >&2
  exit 1
fi

# 1. Source: node-llama-cpp's own bundle, at the version package.json pins.
if [[ ! -d "$llama_dir/.git" ]]; then
  bundle="$here/node_modules/node-llama-cpp/llama/gitRelease.bundle"
  if [[ ! -f "$bundle" ]]; then
    echo "build-llama.sh: installing node-llama-cpp in $here" >&2
    (cd "$here" && npm install --ignore-scripts --omit=optional --no-package-lock --no-audit --no-fund)
  fi
  echo "build-llama.sh: cloning $bundle into $llama_dir" >&2
  git -c advice.detachedHead=false clone --quiet "$bundle" "$llama_dir"
fi
echo "build-llama.sh: source $llama_dir at $(git -C "$llama_dir" rev-parse HEAD)" >&2
[[ $clone_only == 1 ]] && exit 0

# 2. One build: configure, the tools, then km-dump-logits against its libllama.
build_one() {
  local build_dir="$1"; shift
  cmake -S "$llama_dir" -B "$build_dir" -DCMAKE_BUILD_TYPE=Release -DBUILD_SHARED_LIBS=ON \
    -DLLAMA_CURL=OFF -DLLAMA_OPENSSL=OFF -DLLAMA_BUILD_SERVER=ON "$@" >&2
  cmake --build "$build_dir" -j"$jobs" --target "${tools[@]}" >&2
  local bin="$build_dir/bin"
  c++ -O2 -std=c++17 -Wall -Wextra "$here/dump_logits.cpp" \
    -I"$llama_dir/include" -I"$llama_dir/ggml/include" \
    -L"$bin" -lllama -lggml -lggml-base -Wl,-rpath,"$bin" -o "$bin/km-dump-logits"
  c++ -O2 -std=c++17 -Wall -Wextra "$here/tokenize_cases.cpp" \
    -I"$llama_dir/include" -I"$llama_dir/ggml/include" \
    -L"$bin" -lllama -lggml -lggml-base -Wl,-rpath,"$bin" -o "$bin/km-tokenize-cases"
  echo "build-llama.sh: built ${tools[*]} km-dump-logits km-tokenize-cases in $bin" >&2
}

build_one "$llama_dir/build" -DGGML_CUDA=OFF

if [[ $cuda == on || ( $cuda == auto && $have_gpu == 1 && $have_cublas == 1 ) ]]; then
  # "native" compiles for the GPU in this machine only; the reference never ships.
  arch=native
  [[ $have_gpu == 1 ]] || arch="75;80;86;89;90"
  build_one "$llama_dir/build-cuda" -DGGML_CUDA=ON -DCMAKE_CUDA_ARCHITECTURES="$arch"
else
  echo "build-llama.sh: no CUDA build (cuda=$cuda, nvcc+GPU present: $have_gpu, cuBLAS: $have_cublas)" >&2
fi
