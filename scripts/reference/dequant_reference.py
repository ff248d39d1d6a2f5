#!/usr/bin/env python3
"""Reference fixtures for the engine's tensor decoding, made with llama.cpp's own gguf-py.

The engine's dequantize_row and half.h conversions must agree bit for bit with
llama.cpp. This script asks llama.cpp's Python package (GGUFReader and
gguf.quants.dequantize, which repeat ggml-quants.c's float32 arithmetic in numpy)
for the answers and writes them as small JSON fixtures under
tests/fixtures/ggml_types/, read by native/tests/ggml_types.cpp:

  <model>.json   every tensor of a shared model: type, element count, sum and sum
                 of squares (float64), the first 64 values as float32 bit patterns,
                 and the FNV-1a 64 hash of all float32 values (little-endian bytes).
  blocks.json    for types no shared model holds (Q4_K, Q6_K, BF16, ...): seeded
                 random blocks (hex) with every decoded float (hex float32 LE).
  half.json      fp16 <-> fp32 at the edges and over sweeps, as numpy converts them.

Usage: dequant_reference.py [--llama-cpp /work/ref/llama.cpp] [--models ../shared/models]
                            [--out tests/fixtures/ggml_types]
Needs python3-numpy. Rerunning it gives the same files.
"""

import argparse
import hashlib
import json
import os
import subprocess
import sys

import numpy as np

FNV_OFFSET = 0xCBF29CE484222325
FNV_PRIME = 0x100000001B3
MASK64 = (1 << 64) - 1

MODELS = ["stories260K.gguf", "stories260K-Q8_0.gguf", "stories260K-Q4_0.gguf", "llama-2-tiny-random.gguf"]
HEAD = 64


def fnv1a64(data: bytes) -> str:
    h = FNV_OFFSET
    for b in data:
        h = ((h ^ b) * FNV_PRIME) & MASK64
    return f"{h:016x}"


def sha256_file(path: str) -> str:
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def header(llama_cpp: str, what: str) -> dict:
    try:
        commit = subprocess.run(["git", "-C", llama_cpp, "rev-parse", "HEAD"], capture_output=True, text=True,
                                check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        commit = "unknown"
    return {
        "generator": "scripts/reference/dequant_reference.py",
        "reference": f"llama.cpp gguf-py (commit {commit}), numpy {np.__version__}",
        "what": what,
        "hash": "fnv1a64 over the float32 values as little-endian bytes",
    }


def describe(values: np.ndarray) -> dict:
    v = np.ascontiguousarray(values, dtype=np.float32).reshape(-1)
    d = v.astype(np.float64)
    return {
        "n": int(v.size),
        "sum": float(d.sum()),
        "sumsq": float((d * d).sum()),
        "head": v[:HEAD].tobytes().hex(),
        "fnv1a64": fnv1a64(v.tobytes()),
    }


def model_fixture(gguf, llama_cpp: str, models: str, name: str) -> dict:
    from gguf.quants import dequantize

    path = os.path.join(models, name)
    reader = gguf.GGUFReader(path)
    out = header(llama_cpp, f"every tensor of {name} dequantized by gguf.quants.dequantize")
    out["model"] = name
    out["model_sha256"] = sha256_file(path)
    tensors = []
    for t in reader.tensors:
        values = dequantize(t.data, t.tensor_type)
        entry = {"name": t.name, "type": t.tensor_type.name.lower()}
        entry.update(describe(values))
        tensors.append(entry)
    out["tensors"] = tensors
    return out


def random_blocks(gguf, qtype, n_blocks: int, rng: np.random.Generator) -> np.ndarray:
    """Random block bytes whose fp16 scale fields hold sane finite values, so the
    decoded floats are ordinary numbers (random bits there would mostly be huge,
    inf or nan and test nothing)."""
    from gguf.constants import GGML_QUANT_SIZES

    _, size = GGML_QUANT_SIZES[qtype]
    raw = rng.integers(0, 256, size=(n_blocks, size), dtype=np.uint8)
    # Byte offsets of the fp16 scales in each layout (see native/include/keymate/formats.h).
    T = gguf.GGMLQuantizationType
    qk_k = 256
    fp16_fields = {
        T.Q4_0: [0], T.Q4_1: [0, 2], T.Q5_0: [0], T.Q5_1: [0, 2], T.Q8_0: [0],
        T.Q2_K: [qk_k // 16 + qk_k // 4, qk_k // 16 + qk_k // 4 + 2],
        T.Q3_K: [qk_k // 8 + qk_k // 4 + 12],
        T.Q4_K: [0, 2], T.Q5_K: [0, 2],
        T.Q6_K: [qk_k // 2 + qk_k // 4 + qk_k // 16],
    }[qtype]
    for off in fp16_fields:
        scale = (rng.standard_normal(n_blocks) * 0.05).astype(np.float16)
        raw[:, off:off + 2] = scale.view(np.uint8).reshape(n_blocks, 2)
    return raw


def blocks_fixture(gguf, llama_cpp: str) -> dict:
    from gguf.quants import dequantize

    T = gguf.GGMLQuantizationType
    rng = np.random.default_rng(20240607)
    out = header(llama_cpp, "seeded random blocks per type, decoded by gguf.quants.dequantize")
    cases = []
    for qtype, n_blocks in [(T.Q4_0, 8), (T.Q4_1, 8), (T.Q5_0, 8), (T.Q5_1, 8), (T.Q8_0, 8),
                            (T.Q2_K, 2), (T.Q3_K, 2), (T.Q4_K, 2), (T.Q5_K, 2), (T.Q6_K, 2)]:
        raw = random_blocks(gguf, qtype, n_blocks, rng)
        values = dequantize(raw.reshape(-1), qtype).astype(np.float32).reshape(-1)
        cases.append({"type": qtype.name.lower(), "n": int(values.size), "blocks": raw.tobytes().hex(),
                      "floats": values.tobytes().hex()})
    # BF16: random bits plus the special values, through llama.cpp's own conversion.
    specials = np.array([0x0000, 0x8000, 0x7F80, 0xFF80, 0x7FC0, 0xFFC1, 0x7F81, 0x0001, 0x807F, 0x7F7F, 0xFF7F,
                         0x3F80, 0xBF80, 0x0080], dtype=np.uint16)
    bf = np.concatenate([specials, rng.integers(0, 65536, size=256 - specials.size, dtype=np.uint16)])
    values = dequantize(bf.view(np.uint8), T.BF16).astype(np.float32).reshape(-1)
    cases.append({"type": "bf16", "n": int(values.size), "blocks": bf.tobytes().hex(),
                  "floats": values.tobytes().hex()})
    # fp32 -> bf16 as llama.cpp rounds it (ggml_compute_fp32_to_bf16, via gguf-py).
    from gguf.quants import quantize
    src = np.concatenate([
        np.array([0.0, -0.0, 1.0, 1.00390625, 1.005859375, 1.001953125, 3.0e38, -3.4e38, np.inf, -np.inf, 1e-40,
                  -1e-45], dtype=np.float32),
        rng.standard_normal(244).astype(np.float32)])
    enc = quantize(src, T.BF16).reshape(-1)
    out["fp32_to_bf16"] = {"n": int(src.size), "floats": src.tobytes().hex(), "bf16": enc.tobytes().hex()}
    out["cases"] = cases
    return out


def tie_inputs() -> np.ndarray:
    """For every finite positive half h: the float32 midpoint between h and the next
    half, and the floats one ulp either side; then the same negated. These are the
    inputs where rounding to nearest even is decided. native/tests/ggml_types.cpp
    builds the very same list."""
    h = np.arange(0, 0x7BFF, dtype=np.uint16)  # h and h+1 both finite
    lo = h.view(np.float16).astype(np.float32)
    hi = (h + 1).view(np.float16).astype(np.float32)
    mid = ((lo.astype(np.float64) + hi.astype(np.float64)) / 2).astype(np.float32)  # exact
    below = np.nextafter(mid, np.float32(-np.inf))
    above = np.nextafter(mid, np.float32(np.inf))
    pos = np.stack([mid, below, above], axis=1).reshape(-1)
    return np.concatenate([pos, -pos])


def sweep_inputs() -> np.ndarray:
    """Every 4097th float32 bit pattern, nan excluded (numpy and IEEE hardware differ
    only in the nan payload; the test checks nan separately)."""
    bits = np.arange(0, 1 << 32, 4097, dtype=np.uint64).astype(np.uint32)
    f = bits.view(np.float32)
    return f[~np.isnan(f)]


def half_fixture(llama_cpp: str) -> dict:
    out = header(llama_cpp, "numpy float16 <-> float32 conversions (IEEE, round to nearest even)")
    out["hash"] = "fnv1a64 over the outputs as little-endian bytes"
    all_halves = np.arange(0, 1 << 16, dtype=np.uint32).astype(np.uint16)
    out["fp16_to_fp32_all"] = fnv1a64(all_halves.view(np.float16).astype(np.float32).tobytes())
    ties = tie_inputs()
    out["fp32_to_fp16_ties"] = {"n": int(ties.size), "fnv1a64": fnv1a64(ties.astype(np.float16).tobytes())}
    sweep = sweep_inputs()
    with np.errstate(over="ignore"):  # overflow to inf is the behaviour under test
        sweep16 = sweep.astype(np.float16)
    out["fp32_to_fp16_sweep"] = {"n": int(sweep.size), "fnv1a64": fnv1a64(sweep16.tobytes())}
    edges = np.array([0.0, -0.0, 65504.0, -65504.0, 65519.99, 65520.0, 1e9, -1e9, np.inf, -np.inf,
                      2.0 ** -24, 2.0 ** -25, 2.0 ** -25 * 1.0000001, 3 * 2.0 ** -26, 2.0 ** -14, 2.0 ** -14 - 2.0 ** -24,
                      1023 * 2.0 ** -24, 6.1e-5, 1e-8, -1e-8, 1.0, 1.0 + 2.0 ** -11, 1.0 + 3 * 2.0 ** -11, 0.1, -0.1,
                      np.finfo(np.float32).max, np.finfo(np.float32).tiny], dtype=np.float32)
    with np.errstate(over="ignore"):
        edges16 = edges.astype(np.float16)
    out["fp32_to_fp16_edges"] = [{"f32": int(f.view(np.uint32)), "f16": int(h)}
                                 for f, h in zip(edges, edges16.view(np.uint16))]
    return out


def fast_fnv_check():
    assert fnv1a64(b"") == "cbf29ce484222325"
    assert fnv1a64(b"a") == "af63dc4c8601ec8c"


def main() -> int:
    here = os.path.dirname(os.path.abspath(__file__))
    repo = os.path.normpath(os.path.join(here, "..", ".."))
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--llama-cpp", default="/work/ref/llama.cpp")
    ap.add_argument("--models", default=os.path.join(repo, "..", "shared", "models"))
    ap.add_argument("--out", default=os.path.join(repo, "tests", "fixtures", "ggml_types"))
    args = ap.parse_args()

    sys.path.insert(0, os.path.join(args.llama_cpp, "gguf-py"))
    import gguf  # noqa: E402  (llama.cpp's own package, found through --llama-cpp)

    fast_fnv_check()
    os.makedirs(args.out, exist_ok=True)

    def write(name: str, obj: dict):
        path = os.path.join(args.out, name)
        with open(path, "w") as f:
            json.dump(obj, f, indent=1)
            f.write("\n")
        print(f"wrote {path}", file=sys.stderr)

    for m in MODELS:
        write(m.replace(".gguf", ".json"), model_fixture(gguf, args.llama_cpp, args.models, m))
    write("blocks.json", blocks_fixture(gguf, args.llama_cpp))
    write("half.json", half_fixture(args.llama_cpp))
    return 0


if __name__ == "__main__":
    sys.exit(main())
