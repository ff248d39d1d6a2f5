#!/usr/bin/env bash
# Fuzzes the C side of the keyboard link (COBS, frame decoder, reader, device state machine)
# with libFuzzer for N seconds: scripts/fuzz-cobs.sh [SECONDS]   (default 30; CI uses it).
# The corpus starts from the shared test vectors, so the fuzzer begins with frames whose CRC
# is right and can explore what lies past it. Needs clang with libFuzzer (clang >= 6).
# BUILD=dir chooses the build folder (default build/firmware-bridge).
set -euo pipefail

seconds="${1:-30}"
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${BUILD:-$root/build/firmware-bridge}"
corpus="$build/fuzz-corpus"

if ! command -v "${FUZZ_CC:-clang}" >/dev/null; then
  echo "fuzz-cobs: ${FUZZ_CC:-clang} not found; install clang (apt-get install clang)" >&2
  exit 1
fi

mkdir -p "$corpus"
# One seed file per vector frame, delimiter removed, plus each stream as it is.
node -e '
  const fs = require("fs"), path = require("path");
  const v = JSON.parse(fs.readFileSync(process.argv[1], "utf8"));
  const out = process.argv[2];
  const seeds = [...v.frames, ...v.malformed].map((x) => Buffer.from(x.frame, "hex").subarray(0, -1));
  seeds.push(...v.streams.map((s) => Buffer.from(s.bytes, "hex")));
  seeds.forEach((b, i) => fs.writeFileSync(path.join(out, "vector-" + i), b));
' "$root/firmware-bridge/vectors/frames.json" "$corpus"

make -C "$root/firmware-bridge/device" fuzz SECONDS="$seconds" BUILD="$build"
