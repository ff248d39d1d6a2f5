#!/usr/bin/env python3
"""The PyTorch peer: an FP16 Llama forward on the GPU, eager and
torch.compile'd, on the weights of a `keymate synth --type f16` GGUF (read by
gguf_reader.py, so no transformers and no conversion), timed with CUDA events:

  ttft_ms              prefill of --prompt-tokens tokens + the greedy pick of the first token
  decode_ms_per_token  each further token: one forward of one token + its greedy pick

The forward pass is llama_forward.py's, the code check_reader.py verifies on
the CPU against keymate's greedy tokens; TorchOps below gives it PyTorch ops.
The KV cache is preallocated and attention runs over all of it with a causal
mask, so shapes are static: torch.compile (mode reduce-overhead, i.e. with
CUDA graphs) compiles one graph for the prefill and one for decode.

usage: torch_llama.py --model F16.gguf [--prompt-tokens 128] [--gen-tokens 128] [--repeat 5]
                      [--modes eager,compiled]
Prints one JSON line on stdout; progress on stderr.
"""
import argparse
import json
import os
import statistics
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F

sys.dont_write_bytecode = True  # no __pycache__ left in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from gguf_reader import GgufFile  # noqa: E402
from llama_forward import forward, load_weights, rope_tables  # noqa: E402


def log(msg):
    print(f"torch_llama: {msg}", file=sys.stderr, flush=True)


class TorchOps:
    def __init__(self, hp, context, device):
        cos, sin = rope_tables(hp, context)
        self.cos = torch.tensor(cos, dtype=torch.float32, device=device)
        self.sin = torch.tensor(sin, dtype=torch.float32, device=device)
        self.ctx = torch.arange(context, device=device)

    @staticmethod
    def new_caches(hp, context, device):
        shape = (context, hp["kv_heads"], hp["head_dim"])
        return [(torch.zeros(shape, dtype=torch.float16, device=device),
                 torch.zeros(shape, dtype=torch.float16, device=device)) for _ in range(hp["layers"])]

    @staticmethod
    def embed(table, ids):
        return F.embedding(ids, table)

    @staticmethod
    def rmsnorm(x, w, eps):
        xf = x.float()
        return (xf * torch.rsqrt(xf.pow(2).mean(-1, keepdim=True) + eps)).to(x.dtype) * w

    @staticmethod
    def linear(x, w):
        return F.linear(x, w)

    @staticmethod
    def split(x, sizes):
        return torch.split(x, sizes, dim=-1)

    def rope(self, x, positions):
        c, s = self.cos[positions][:, None, :], self.sin[positions][:, None, :]
        xf = x.float()
        x0, x1 = xf[..., 0::2], xf[..., 1::2]
        return torch.stack((x0 * c - x1 * s, x0 * s + x1 * c), dim=-1).flatten(-2).to(x.dtype)

    @staticmethod
    def cache_write(cache, positions, val):
        cache.index_copy_(0, positions, val)

    def attention(self, q, kc, vc, positions):
        n, heads, hd = q.shape
        mask = self.ctx[None, :] <= positions[:, None]  # [n, ctx]
        o = F.scaled_dot_product_attention(q.transpose(0, 1)[None], kc.transpose(0, 1)[None],
                                           vc.transpose(0, 1)[None], attn_mask=mask, enable_gqa=True)
        return o[0].transpose(0, 1).reshape(n, heads * hd)

    @staticmethod
    def silu(x):
        return F.silu(x)


def time_runs(step, prompt, args, device):
    """Median TTFT and decode ms/token over args.repeat runs after one warm-up."""
    positions_prompt = torch.arange(args.prompt_tokens, device=device)
    ttft, decode = [], []
    for run in range(args.repeat + 1):
        e0, e1, e2 = (torch.cuda.Event(enable_timing=True) for _ in range(3))
        e0.record()
        tok = step(prompt, positions_prompt)
        e1.record()
        for i in range(args.gen_tokens):
            pos = torch.full((1,), args.prompt_tokens + i, dtype=torch.long, device=device)
            tok = step(tok.reshape(1), pos)
        e2.record()
        torch.cuda.synchronize()
        if run > 0:  # run 0 warms up (and compiles)
            ttft.append(e0.elapsed_time(e1))
            if args.gen_tokens > 0:
                decode.append(e1.elapsed_time(e2) / args.gen_tokens)
    return {"ttft_ms": statistics.median(ttft),
            "decode_ms_per_token": statistics.median(decode) if decode else None,
            "ttft_ms_all": ttft}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", required=True)
    ap.add_argument("--prompt-tokens", type=int, default=128)
    ap.add_argument("--gen-tokens", type=int, default=128)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--modes", default="eager,compiled")
    ap.add_argument("--seed", type=int, default=0x6b6d)
    args = ap.parse_args()
    if not torch.cuda.is_available():
        print("torch_llama: no CUDA device visible to PyTorch", file=sys.stderr)
        return 1
    device = torch.device("cuda")

    t0 = time.time()
    g = GgufFile(args.model)
    hp = g.hparams()
    w = load_weights(g, lambda a: torch.from_numpy(np.ascontiguousarray(a)).to(device))
    torch.cuda.synchronize()
    load_s = time.time() - t0
    log(f"loaded {args.model} in {load_s:.1f} s")
    context = args.prompt_tokens + args.gen_tokens
    ops = TorchOps(hp, context, device)
    caches = TorchOps.new_caches(hp, context, device)
    rng = np.random.default_rng(args.seed)
    prompt = torch.tensor(rng.integers(0, hp["vocab"], args.prompt_tokens), dtype=torch.long, device=device)

    def step(ids, positions):
        return torch.argmax(forward(ops, w, hp, caches, ids, positions))

    out = {"peer": "torch", "torch": torch.__version__, "device": torch.cuda.get_device_name(),
           "model": args.model, "prompt_tokens": args.prompt_tokens, "gen_tokens": args.gen_tokens,
           "repeat": args.repeat, "dtype": "float16", "load_s": load_s,
           "weight_bytes": sum(t.numel() * t.element_size() for t in
                               [w["tok"], w["out"], w["out_norm"]] + [x for k in ("attn_norm", "ffn_norm", "wqkv",
                                                                                  "wo", "w13", "w2") for x in w[k]])
           - (w["tok"].numel() * 2 if hp["tied_output"] else 0)}
    with torch.inference_mode():
        for mode in args.modes.split(","):
            t1 = time.time()
            try:
                if mode == "eager":
                    out["eager"] = time_runs(step, prompt, args, device)
                elif mode == "compiled":
                    compiled = torch.compile(step, mode="reduce-overhead", fullgraph=True, dynamic=False)
                    out["compiled"] = time_runs(compiled, prompt, args, device)
                else:
                    raise ValueError(f"unknown mode {mode} (eager, compiled)")
                out[mode]["wall_s"] = time.time() - t1
            except Exception as e:  # a peer that cannot run is reported, not fatal to the others
                out[mode] = {"error": f"{type(e).__name__}: {e}"[:500]}
            log(f"{mode}: {json.dumps(out[mode])[:200]}")
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
