"""The Llama forward pass the peers run, written once over a small set of
array operations (`ops`) so the very code timed in PyTorch on the GPU is the
code checked here with numpy on the CPU (NumpyOps, float32) against keymate's
own greedy tokens.

The model as llama.cpp's llama architecture defines it: RMSNorm, fused
q|k|v and gate|up projections (concatenated at load, as keymate does), RoPE
in the "normal" layout (adjacent pairs, GGML_ROPE_TYPE_NORM), grouped-query
attention over a preallocated KV cache with a causal mask, SwiGLU, a final
norm and the output projection (the embedding when tied).
"""
import numpy as np


def load_weights(gguf, to_array):
    """The model's tensors as `to_array(numpy f16/f32 array)` gives them, fused per layer."""
    hp = gguf.hparams()

    def get(name):
        return gguf.array(name, as_f16=True)

    w = {"tok": to_array(get("token_embd.weight")), "out_norm": to_array(get("output_norm.weight"))}
    w["out"] = w["tok"] if hp["tied_output"] else to_array(get("output.weight"))
    for key in ("attn_norm", "ffn_norm", "wqkv", "wo", "w13", "w2"):
        w[key] = []
    for i in range(hp["layers"]):
        p = f"blk.{i}."
        w["attn_norm"].append(to_array(get(p + "attn_norm.weight")))
        w["ffn_norm"].append(to_array(get(p + "ffn_norm.weight")))
        w["wqkv"].append(to_array(np.concatenate([get(p + "attn_q.weight"), get(p + "attn_k.weight"),
                                                  get(p + "attn_v.weight")])))
        w["wo"].append(to_array(get(p + "attn_output.weight")))
        w["w13"].append(to_array(np.concatenate([get(p + "ffn_gate.weight"), get(p + "ffn_up.weight")])))
        w["w2"].append(to_array(get(p + "ffn_down.weight")))
    return w


def forward(ops, w, hp, caches, ids, positions):
    """Runs tokens `ids` at `positions` (the cache is written there) and returns the
    logits [vocab] of the last one."""
    heads, kv_heads, hd, ffn = hp["heads"], hp["kv_heads"], hp["head_dim"], hp["ffn"]
    eps = hp["eps"]
    n = ids.shape[0]
    x = ops.embed(w["tok"], ids)
    for layer in range(hp["layers"]):
        h = ops.rmsnorm(x, w["attn_norm"][layer], eps)
        q, k, v = ops.split(ops.linear(h, w["wqkv"][layer]), [heads * hd, kv_heads * hd, kv_heads * hd])
        q = ops.rope(q.reshape(n, heads, hd), positions)
        k = ops.rope(k.reshape(n, kv_heads, hd), positions)
        kc, vc = caches[layer]
        ops.cache_write(kc, positions, k)
        ops.cache_write(vc, positions, v.reshape(n, kv_heads, hd))
        x = x + ops.linear(ops.attention(q, kc, vc, positions), w["wo"][layer])
        h = ops.rmsnorm(x, w["ffn_norm"][layer], eps)
        g, u = ops.split(ops.linear(h, w["w13"][layer]), [ffn, ffn])
        x = x + ops.linear(ops.silu(g) * u, w["w2"][layer])
    x = ops.rmsnorm(x[n - 1:], w["out_norm"], eps)
    return ops.linear(x, w["out"])[0]


def rope_tables(hp, context):
    """cos and sin [context, head_dim / 2] of RoPE's angles, in float64 then cast by the caller."""
    hd = hp["head_dim"]
    inv = hp["rope_theta"] ** (-np.arange(0, hd, 2, dtype=np.float64) / hd)
    ang = np.arange(context, dtype=np.float64)[:, None] * inv[None, :]
    return np.cos(ang), np.sin(ang)


class NumpyOps:
    """float32 numpy: the CPU check of the shared forward pass."""

    def __init__(self, hp, context):
        cos, sin = rope_tables(hp, context)
        self.cos, self.sin = cos.astype(np.float32), sin.astype(np.float32)
        self.group = hp["heads"] // hp["kv_heads"]

    def new_caches(self, hp, context):
        shape = (context, hp["kv_heads"], hp["head_dim"])
        return [(np.zeros(shape, np.float32), np.zeros(shape, np.float32)) for _ in range(hp["layers"])]

    @staticmethod
    def embed(table, ids):
        return table[ids].astype(np.float32)

    @staticmethod
    def rmsnorm(x, w, eps):
        return x / np.sqrt(np.mean(x * x, axis=-1, keepdims=True) + eps) * w.astype(np.float32)

    @staticmethod
    def linear(x, w):
        return x @ w.astype(np.float32).T

    @staticmethod
    def split(x, sizes):
        return np.split(x, np.cumsum(sizes)[:-1], axis=-1)

    def rope(self, x, positions):
        c, s = self.cos[positions][:, None, :], self.sin[positions][:, None, :]
        x0, x1 = x[..., 0::2], x[..., 1::2]
        out = np.empty_like(x)
        out[..., 0::2] = x0 * c - x1 * s
        out[..., 1::2] = x0 * s + x1 * c
        return out

    @staticmethod
    def cache_write(cache, positions, val):
        cache[positions] = val

    def attention(self, q, kc, vc, positions):
        n, heads, hd = q.shape
        k = np.repeat(kc, self.group, axis=1)  # [ctx, heads, hd]
        v = np.repeat(vc, self.group, axis=1)
        scores = np.einsum("nhd,chd->hnc", q, k) / np.sqrt(hd)
        mask = np.arange(kc.shape[0])[None, :] <= positions[:, None]  # [n, ctx]
        scores = np.where(mask[None], scores, -np.inf)
        scores = np.exp(scores - scores.max(axis=-1, keepdims=True))
        p = scores / scores.sum(axis=-1, keepdims=True)
        return np.einsum("hnc,chd->nhd", p, v).reshape(n, heads * hd)

    @staticmethod
    def silu(x):
        return x / (1.0 + np.exp(-x))


def greedy(ops, w, hp, caches, prompt, count):
    """`count` greedy tokens after `prompt` (a list of ids)."""
    ids = np.asarray(prompt, dtype=np.int64)
    logits = forward(ops, w, hp, caches, ids, np.arange(len(prompt)))
    out = []
    for i in range(count):
        tok = int(np.argmax(logits))
        out.append(tok)
        pos = len(prompt) + i
        logits = forward(ops, w, hp, caches, np.asarray([tok]), np.asarray([pos]))
    return out
