#!/usr/bin/env python3
"""The GPU execution paths' acceptance table from the results scripts/gpu-bench.sh collected
(one file per measurement in RESULTS_DIR), as one JSON object on stdout:
{"rows": [...], "raw": {...}, "missing": [...]}. A row whose measurement is
missing or failed says so; it is never filled with a guess.

Bytes per decoded token (for bandwidth utilisation) are the loaded weight
bytes less the embedding table when the output matrix is separate (only one
row of it is read per token), assuming the format's bytes per parameter are
uniform; norms and the KV cache are not counted (under 1% at 256 tokens).

The RTX 4060 Laptop projection keeps the measured utilisation of the copy
bandwidth and moves it to 256 GB/s: decode_ms x copy_GB/s / 256.

usage: gpu_bench_report.py RESULTS_DIR
"""
import glob
import json
import os
import sys

RTX4060_LAPTOP_GB_S = 256.0
TARGETS = {  # what the product promises on the laptop RTX 4060 it is built around
    "ttft_7b_ms": 2.6,
    "decode_7b_ms": 2.5,
    "bw_util_7b": 0.80,
    "decode_1b_ms": 0.45,
    "doorbell_p50_us": 2.0,
    "ttft_vs_llama_cpp": 3.0,
}


def load(results):
    raw, failed = {}, {}
    for f in glob.glob(os.path.join(results, "*.json")):
        name = os.path.basename(f)[:-5]
        try:
            with open(f) as fh:
                raw[name] = json.load(fh)
        except ValueError as e:
            failed[name] = f"not JSON: {e}"
        out = f[:-5] + ".out"
        if os.path.exists(out):  # llama-bench writes one JSON line per test
            with open(out) as fh:
                lines = [ln for ln in fh.read().splitlines() if ln.startswith("{")]
            if len(lines) > 1:
                raw[name] = [json.loads(ln) for ln in lines]
    for f in glob.glob(os.path.join(results, "*.failed")):
        with open(f) as fh:
            failed[os.path.basename(f)[:-7]] = json.load(fh).get("error", "failed")
    return raw, failed


def bytes_per_token(model):
    params, wb = model.get("parameters", 0), model.get("weight_bytes", 0)
    if not params or not wb:
        return None
    # Tied output (llama3.2-1b): the table is read whole as the output matrix.
    # Separate (llama2-7b): the embedding is read one row a token. Which one
    # the parameter count says, from the shape.
    dim, layers, heads, kv, ffn, vocab = (model[k] for k in ("dim", "layers", "heads", "kv_heads", "ffn", "vocab"))
    hd = dim // heads
    body = layers * (2 * dim * heads * hd + 2 * dim * kv * hd + 3 * dim * ffn + 2 * dim) + dim
    tied = abs(params - (body + vocab * dim)) < abs(params - (body + 2 * vocab * dim))
    return wb if tied else wb * (params - vocab * dim) / params


def main():
    results = sys.argv[1]
    raw, failed = load(results)
    rows, missing = [], []

    def get(name, *keys):
        v = raw.get(name)
        for k in keys:
            if not isinstance(v, dict) or k not in v:
                if name not in raw:
                    missing.append(name + (f" ({failed[name].strip()[:200]})" if name in failed else ""))
                return None
            v = v[k]
        return v

    def row(what, value, unit, target=None, better="lower", source=None, **extra):
        r = {"what": what, "value": value, "unit": unit, "source": source}
        if target is not None:
            r["target"] = target
            r["pass"] = None if value is None else (value <= target if better == "lower" else value >= target)
        r.update(extra)
        rows.append(r)

    copy_gb_s = get("copy-bandwidth", "gb_s")

    ttft7 = get("km-7b-fp8-gen1-zero-launch", "ttft_ms", "median")
    row("7B fp8: time to first token, 128 prompt tokens (zero-launch, --gen-tokens 1)", ttft7, "ms",
        TARGETS["ttft_7b_ms"], source="km-7b-fp8-gen1-zero-launch")
    by_path = {}
    for size in ("7b", "1b"):
        for p in ("launch", "graph", "zero-launch"):
            n = f"km-{size}-fp8-gen128-{p}"
            by_path[(size, p)] = (get(n, "ttft_ms", "median"), get(n, "decode_ms_per_token"))
    d7 = by_path[("7b", "zero-launch")][1]
    row("7B fp8: decode (zero-launch, --gen-tokens 128)", d7, "ms/token", TARGETS["decode_7b_ms"],
        source="km-7b-fp8-gen128-zero-launch")
    model7 = get("km-7b-fp8-gen128-zero-launch", "model")
    util7 = None
    if model7 and d7 and copy_gb_s:
        util7 = bytes_per_token(model7) / (d7 / 1e3) / 1e9 / copy_gb_s
    row("7B fp8: decode bandwidth utilisation (weight bytes per token / time, over copy bandwidth)", util7,
        "fraction", TARGETS["bw_util_7b"], better="higher", copy_gb_s=copy_gb_s)
    d1 = by_path[("1b", "zero-launch")][1]
    row("Llama-3.2-1B shape fp8: decode (zero-launch)", d1, "ms/token", TARGETS["decode_1b_ms"],
        source="km-1b-fp8-gen128-zero-launch")
    row("doorbell: host ring -> every block of the armed grid starts, p50", get("doorbell", "full_grid",
        "host_to_start_us", "p50"), "us", TARGETS["doorbell_p50_us"], source="doorbell",
        calibration_uncertainty_us=get("doorbell", "calibration_uncertainty_us"),
        round_trip_p50_us=get("doorbell", "full_grid", "round_trip_us", "p50"),
        one_block_host_to_seen_p50_us=get("doorbell", "one_block", "host_to_seen_us", "p50"),
        kernel_launch_sync_p50_us=get("doorbell", "kernel_launch_sync_us", "p50"),
        graph_launch_sync_p50_us=get("doorbell", "graph_launch_sync_us", "p50"))
    for size in ("7b", "1b"):
        dec = {p: by_path[(size, p)][1] for p in ("launch", "graph", "zero-launch")}
        ttft = {p: by_path[(size, p)][0] for p in ("launch", "graph", "zero-launch")}
        ordered = None if None in dec.values() else dec["zero-launch"] < dec["graph"] < dec["launch"]
        row(f"{size.upper()} fp8: zero-launch beats graph beats launch (decode ms/token)", ordered, "bool",
            decode_ms=dec, ttft_ms=ttft)

    peers = {}
    for shape, size in (("llama2-7b", "7b"), ("llama3.2-1b", "1b")):
        for t in ("q8_0", "f16"):
            tests = raw.get(f"llama-{shape}-{t}")
            if not isinstance(tests, list):
                missing.append(f"llama-{shape}-{t}")
                continue
            pp = next((x for x in tests if x.get("n_prompt", 0) > 0 and x.get("n_gen", 0) == 0), None)
            tg = next((x for x in tests if x.get("n_gen", 0) > 0 and x.get("n_prompt", 0) == 0), None)
            peers[f"llama.cpp {t} {size}"] = {
                "ttft_ms": pp["avg_ns"] / 1e6 if pp else None,  # the prompt's batch; first-token sampling not included
                "decode_ms_per_token": tg["avg_ns"] / 1e6 / tg["n_gen"] if tg else None}
        for mode in ("eager", "compiled"):
            peers[f"torch {mode} f16 {size}"] = {"ttft_ms": get(f"torch-{size}-f16", mode, "ttft_ms"),
                                                 "decode_ms_per_token": get(f"torch-{size}-f16", mode,
                                                                            "decode_ms_per_token")}
    for name, v in peers.items():
        row(f"peer {name}", v["decode_ms_per_token"], "ms/token", ttft_ms=v["ttft_ms"])
    lq = peers.get("llama.cpp q8_0 7b", {}).get("ttft_ms")
    row("7B: llama.cpp Q8_0 time to first token / keymate's (fp8, zero-launch)",
        lq / ttft7 if lq and ttft7 else None, "x", TARGETS["ttft_vs_llama_cpp"], better="higher")

    for size, d in (("7B", d7), ("1B", d1)):
        row(f"{size} fp8 decode projected to an RTX 4060 Laptop (256 GB/s) at the measured utilisation",
            d * copy_gb_s / RTX4060_LAPTOP_GB_S if d and copy_gb_s else None, "ms/token")
    for size in ("7b", "1b"):
        on = get(f"km-{size}-fp8-gen128-zero-launch-l2", "decode_ms_per_token")
        row(f"{size.upper()} fp8 zero-launch decode with the L2 persistence window on (off: see above)", on,
            "ms/token", off=by_path[(size, "zero-launch")][1])
    row("1B fp8 zero-launch decode with 2 blocks per SM (KEYMATE_ZL_BLOCKS_PER_SM=2)",
        get("km-1b-fp8-gen128-zero-launch-2bpsm", "decode_ms_per_token"), "ms/token")
    stages = get("km-7b-fp8-gen128-zero-launch", "stages_ms")
    row("7B fp8 zero-launch: device time per stage per decoded token", None, "ms", stages_ms=stages)

    print(json.dumps({"rows": rows, "gpu": raw.get("gpu"), "missing": sorted(set(missing)), "raw": raw}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
