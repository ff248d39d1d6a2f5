#!/usr/bin/env bash
# Fuzz the GGUF parser for SECONDS (default 60): builds native/fuzz/fuzz_gguf.cpp
# with clang (libFuzzer + ASan + UBSan), seeds a corpus from the real models
# (their first 4 KiB: headers, metadata, tensor infos) and from small synthetic
# GGUF files written here, then runs. Any crash, sanitizer report, leak, timeout
# or allocation over the limit fails the run and leaves the input in
# $BUILD/artifacts/ (replay it: $BUILD/fuzz/keymate_fuzz_gguf FILE).
#
#   scripts/fuzz-gguf.sh [SECONDS]
#   env: BUILD (default build-fuzz), MODELS (default ../shared/models), JOBS (default 2)
set -euo pipefail

seconds="${1:-60}"
case "$seconds" in '' | *[!0-9]*) echo "usage: $0 [SECONDS]" >&2; exit 2 ;; esac

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${BUILD:-$repo/build-fuzz}"
models="${MODELS:-$repo/../shared/models}"
jobs="${JOBS:-2}"

command -v clang++ > /dev/null || { echo "fuzz-gguf: clang++ not found (apt-get install clang)" >&2; exit 1; }

mkdir -p "$build"
CC=clang CXX=clang++ cmake -S "$repo/native" -B "$build" -DKEYMATE_FUZZ=ON -DKEYMATE_CUDA=off \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo > "$build/configure.log" 2>&1 || { cat "$build/configure.log" >&2; exit 1; }
cmake --build "$build" --target keymate_fuzz_gguf -j "$jobs"
fuzzer="$build/fuzz/keymate_fuzz_gguf"

corpus="$build/corpus-gguf"
seeds="$build/seeds-gguf"
artifacts="$build/artifacts/"
mkdir -p "$corpus" "$seeds" "$artifacts"

# Seeds: prefixes of the real files, so the fuzzer starts from real metadata.
if [ -d "$models" ]; then
  for f in "$models"/*.gguf "$models"/vocab/*.gguf; do
    [ -f "$f" ] && head -c 4096 "$f" > "$seeds/prefix-$(basename "$f")"
  done
else
  echo "fuzz-gguf: no models in $models, synthetic seeds only" >&2
fi

# Small complete files: every metadata kind, arrays, alignment, tensors of
# several types and ranks, with their data, so every check is reachable.
python3 - "$seeds" <<'PY'
import struct, sys, os
out = sys.argv[1]

def s(x): b = x.encode(); return struct.pack("<Q", len(b)) + b
def kv(key, kind, payload): return s(key) + struct.pack("<I", kind) + payload
def arr(kind, items): return struct.pack("<IQ", kind, len(items)) + b"".join(items)

def gguf(kvs, tensors, align=32, version=3):
    head = b"GGUF" + struct.pack("<IQQ", version, len(tensors), len(kvs)) + b"".join(kvs)
    infos, data = b"", b""
    for name, dims, typ, nbytes in tensors:
        data += b"\0" * (-len(data) % align)
        infos += s(name) + struct.pack("<I", len(dims)) + b"".join(struct.pack("<Q", d) for d in dims)
        infos += struct.pack("<IQ", typ, len(data))
        data += bytes((i * 37 + 11) % 256 for i in range(nbytes))
    body = head + infos
    return body + b"\0" * (-len(body) % align) + data

meta = [
    kv("general.architecture", 8, s("llama")),
    kv("llama.context_length", 4, struct.pack("<I", 128)),
    kv("u8", 0, b"\x07"), kv("i8", 1, b"\xff"), kv("u16", 2, b"\1\2"), kv("i16", 3, b"\3\4"),
    kv("i32", 5, struct.pack("<i", -3)), kv("f32", 6, struct.pack("<f", 0.5)), kv("bool", 7, b"\1"),
    kv("u64", 10, struct.pack("<Q", 9)), kv("i64", 11, struct.pack("<q", -9)), kv("f64", 12, struct.pack("<d", 2.5)),
    kv("tokenizer.ggml.tokens", 9, arr(8, [s("<s>"), s("</s>"), s("a")])),
    kv("tokenizer.ggml.scores", 9, arr(6, [struct.pack("<f", x) for x in (0.0, -1.0, -2.0)])),
    kv("flags", 9, arr(7, [b"\0", b"\1"])),
]
files = {
    "f32.gguf": gguf(meta, [("token_embd.weight", [8, 4], 0, 128), ("norm", [8], 0, 32)]),
    "types.gguf": gguf(meta[:2], [("a", [32, 2], 8, 68), ("b", [32], 2, 18), ("c", [256], 12, 144),
                                  ("d", [256], 14, 210), ("e", [4, 2, 2, 1], 1, 32), ("f", [2], 30, 4),
                                  ("g", [256], 10, 84), ("h", [256], 11, 110), ("i", [256], 13, 176),
                                  ("j", [32], 3, 20), ("k", [32], 6, 22), ("l", [32], 7, 24)]),
    "align64.gguf": gguf([kv("general.alignment", 4, struct.pack("<I", 64))] + meta[:1],
                         [("t", [16], 0, 64), ("u", [16], 1, 32)], align=64),
    "v2.gguf": gguf(meta[:3], [("t", [4], 0, 16)], version=2),
    "vocab.gguf": gguf(meta, []),
    "empty.gguf": gguf([], []),
}
for name, data in files.items():
    with open(os.path.join(out, name), "wb") as f:
        f.write(data)
PY

# Tokens the fuzzer may splice in: the magic, versions, kinds, key names.
dict="$build/gguf.dict"
cat > "$dict" <<'DICT'
"GGUF"
"\x02\x00\x00\x00"
"\x03\x00\x00\x00"
"\x09\x00\x00\x00"
"\x08\x00\x00\x00"
"\xff\xff\xff\xff\xff\xff\xff\x7f"
"\x00\x00\x00\x00\x00\x00\x00\x40"
"general.alignment"
"general.architecture"
"tokenizer.ggml.tokens"
DICT

echo "fuzz-gguf: $seconds s, corpus $corpus, seeds $(ls "$seeds" | wc -l)" >&2
# -malloc_limit_mb: a single allocation this large from a small input is a bug.
"$fuzzer" "$corpus" "$seeds" -dict="$dict" -max_total_time="$seconds" -max_len=16384 -timeout=10 \
  -rss_limit_mb=2048 -malloc_limit_mb=64 -artifact_prefix="$artifacts" -print_final_stats=1
