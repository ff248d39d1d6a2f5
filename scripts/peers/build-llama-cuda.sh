#!/usr/bin/env bash
# Builds the llama.cpp peer of the GPU benchmarks on the GPU machine (no network): the
# llama.cpp source that the node-llama-cpp npm package bundles (its
# gitRelease.bundle, the same source scripts/reference/ builds for the CPU),
# with -DGGML_CUDA=ON for one architecture, and only the tool we time:
# llama-bench.
#
# The bundle is ~35 MB and lives under node_modules/, which does not travel
# to the GPU machine: copy it into the carried folder first, on this machine:
#   mkdir -p .gpu-carry && cp <...>/node-llama-cpp/llama/gitRelease.bundle .gpu-carry/
# and pass carry: [".gpu-carry"] (the carry limit is 64 MiB in all).
#
# usage: scripts/peers/build-llama-cuda.sh [--arch 90] [--jobs N]
# env:   KM_LLAMA_BUNDLE    the bundle (default: searched, see below)
#        KM_PEERS_DIR       where the tree and build go (default: build-peers/, git-ignored)
# out:   $KM_PEERS_DIR/llama.cpp/build-cuda/bin/llama-bench; prints its path last.
# Takes ~4-6 minutes on 16 cores for one architecture.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
peers="${KM_PEERS_DIR:-$root/build-peers}"
arch=90
jobs="$(nproc 2>/dev/null || echo 4)"
while [[ $# -gt 0 ]]; do
  case "$1" in
    --arch) arch="${2:?--arch needs a compute capability like 90}"; shift 2 ;;
    --jobs) jobs="${2:?--jobs needs a number}"; shift 2 ;;
    -h|--help) sed -n '2,20p' "$0"; exit 0 ;;
    *) echo "build-llama-cuda.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done

say() { echo "build-llama-cuda.sh: $*" >&2; }

bundle="${KM_LLAMA_BUNDLE:-}"
if [[ -z $bundle ]]; then
  for b in "$root/.gpu-carry/gitRelease.bundle" \
           "$root/node_modules/node-llama-cpp/llama/gitRelease.bundle" \
           "$root/scripts/reference/node_modules/node-llama-cpp/llama/gitRelease.bundle"; do
    [[ -f $b ]] && { bundle="$b"; break; }
  done
fi
if [[ -z $bundle || ! -f $bundle ]]; then
  say "no gitRelease.bundle: copy node-llama-cpp's llama/gitRelease.bundle into .gpu-carry/ and carry it, or set KM_LLAMA_BUNDLE"
  exit 1
fi
command -v nvcc >/dev/null || { say "no nvcc on PATH: this script builds the CUDA peer on the GPU machine"; exit 1; }

src="$peers/llama.cpp"
if [[ ! -d $src/.git ]]; then
  mkdir -p "$peers"
  say "cloning $bundle into $src"
  git -c advice.detachedHead=false clone --quiet "$bundle" "$src"
fi
say "source $src at $(git -C "$src" rev-parse HEAD)"

# llama.cpp's CUDA backend links cuBLAS. Where the toolkit next to nvcc has no
# cuBLAS but the Python image has NVIDIA's cuBLAS wheel (headers and .so.N),
# a small folder of links makes it findable by CMake.
extra=()
cuda_root="$(dirname "$(dirname "$(readlink -f "$(command -v nvcc)")")")"
if ! ls "$cuda_root"/include/cublas_v2.h "$cuda_root"/targets/*/include/cublas_v2.h >/dev/null 2>&1; then
  wheel="$(python3 -c 'import nvidia.cublas, os; print(os.path.dirname(nvidia.cublas.__file__))' 2>/dev/null || true)"
  [[ -n $wheel && -f $wheel/include/cublas_v2.h ]] || wheel="$(python3 -c 'import nvidia.cublas as m; print(list(m.__path__)[0])' 2>/dev/null || true)"
  if [[ -n $wheel && -f $wheel/include/cublas_v2.h ]]; then
    links="$peers/cublas"
    mkdir -p "$links/lib"
    for l in "$wheel"/lib/libcublas*.so.*; do
      base="$(basename "$l")"
      ln -sf "$l" "$links/lib/$base"
      ln -sf "$l" "$links/lib/${base%%.so.*}.so"
    done
    say "cuBLAS from the Python wheel at $wheel"
    extra+=(-DCMAKE_LIBRARY_PATH="$links/lib" -DCMAKE_INCLUDE_PATH="$wheel/include"
            -DCMAKE_CUDA_FLAGS="-I$wheel/include" -DCMAKE_CXX_FLAGS="-I$wheel/include"
            -DCMAKE_BUILD_RPATH="$links/lib")
  else
    say "no cuBLAS: neither $cuda_root/include/cublas_v2.h nor the nvidia-cublas Python wheel"
    exit 1
  fi
fi

build="$src/build-cuda"
cmake -S "$src" -B "$build" -DCMAKE_BUILD_TYPE=Release -DBUILD_SHARED_LIBS=OFF -DGGML_CUDA=ON \
  -DCMAKE_CUDA_ARCHITECTURES="$arch" -DLLAMA_CURL=OFF -DLLAMA_OPENSSL=OFF -DLLAMA_BUILD_SERVER=OFF \
  -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF "${extra[@]}" >&2
cmake --build "$build" -j"$jobs" --target llama-bench >&2
say "built $build/bin/llama-bench"
echo "$build/bin/llama-bench"
