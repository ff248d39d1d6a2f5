#!/usr/bin/env python3
"""Checks the peers' GGUF reader and forward pass on the CPU (numpy only)
against keymate itself, on one model:

  1. the hyperparameters and the parameter count the reader sees equal the
     ones keymate_bench reports for the same file;
  2. the shared forward pass (llama_forward.py, run by NumpyOps in float32)
     picks the same greedy tokens from BOS as `keymate_bench generate`.

usage: check_reader.py --bench PATH/keymate_bench [--model ../shared/models/stories260K.gguf] [--tokens 12]
Exit 0 when both hold, 1 (with what differs) when not.
"""
import argparse
import json
import os
import subprocess
import sys

sys.dont_write_bytecode = True  # no __pycache__ left in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from gguf_reader import GgufFile  # noqa: E402
from llama_forward import NumpyOps, greedy, load_weights  # noqa: E402


def run_json(cmd):
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bench", required=True, help="the keymate_bench executable")
    here = os.path.dirname(os.path.abspath(__file__))
    ap.add_argument("--model", default=os.path.join(here, "..", "..", "..", "shared", "models", "stories260K.gguf"))
    ap.add_argument("--tokens", type=int, default=12)
    a = ap.parse_args()

    g = GgufFile(a.model)
    hp = g.hparams()
    km = run_json([a.bench, "--model", a.model, "--prompt-tokens", "1", "--gen-tokens", "1", "--repeat", "1",
                   "--threads", "1", "--backend", "cpu"])["model"]
    bad = [f"{k}: reader {hp[k]}, keymate {km[k]}" for k in ("dim", "layers", "heads", "kv_heads", "ffn", "vocab",
                                                              "parameters") if hp[k] != km[k]]

    context = a.tokens + 2
    ops = NumpyOps(hp, context)
    ours = greedy(ops, load_weights(g, lambda x: x), hp, ops.new_caches(hp, context), [hp["bos"]], a.tokens)
    theirs = run_json([a.bench, "generate", "--model", a.model, "--prompt", "", "--max-tokens", str(a.tokens),
                       "--temperature", "0", "--backend", "cpu"])["token_ids"]
    if ours != theirs:
        bad.append(f"greedy tokens from BOS: ours {ours}, keymate {theirs}")
    print(json.dumps({"model": a.model, "hparams": hp, "greedy": ours, "ok": not bad, "differences": bad}))
    return 0 if not bad else 1


if __name__ == "__main__":
    sys.exit(main())
