#!/usr/bin/env bash
# Regenerates tests/fixtures/tokenizer/gpt-4o-*.out: llama.cpp's tokens for
# Llama 3's vocabulary with the gpt-4o pre-tokenizer (vocab_variant.py), on
# the llama-bpe test texts and on gpt-4o-cases.inp. Needs build-llama.sh's
# km-tokenize-cases and ../shared/models/vocab (KM_MODELS).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
bin="${KM_LLAMA_DIR:-$here/llama.cpp}/build/bin"
vocab="${KM_MODELS:-$root/../shared/models}/vocab/ggml-vocab-llama-bpe.gguf"
fx="$root/tests/fixtures/tokenizer"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
python3 "$here/vocab_variant.py" "$vocab" "$tmp/gpt-4o.gguf" gpt-4o
"$bin/km-tokenize-cases" "$tmp/gpt-4o.gguf" "$vocab.inp" > "$fx/gpt-4o-llama-bpe-texts.out"
"$bin/km-tokenize-cases" "$tmp/gpt-4o.gguf" "$fx/gpt-4o-cases.inp" > "$fx/gpt-4o-cases.out"
echo "make-gpt4o-vectors: wrote $fx/gpt-4o-llama-bpe-texts.out and gpt-4o-cases.out" >&2
