#!/usr/bin/env python3
"""An exact copy of a small llama model with every width a multiple of 256,
so that llama-quantize can write it in Q4_K (whose super-blocks are 256 wide)
instead of falling back to Q5_0 and Q8_0. The real models in ../shared/models
are 64 and 172 wide; this is how ACCURACY.md compares the 4-bit formats with a
real Q4_K.

The new columns and rows are zeros, and the model computes the same logits:
- the residual stream's new dimensions stay zero: the embedding, wo and
  ffn_down write nothing into them, and nothing reads them (their columns are
  zero in every matrix);
- RMS norm averages over the wider stream, so its mean square shrinks by a
  factor old/new: epsilon takes the same factor and the norm weights
  sqrt(old/new), which gives back x / sqrt(mean + eps) * w;
- heads keep their size; new query heads are zero, and so are the new key and
  value heads they attend to (the same query-per-key-head ratio), so they add
  zero to the attention output; the old heads keep their key heads;
- the ffn's new hidden units have zero gate and up rows: act(0) * 0 = 0.

Uses the gguf-py of the llama.cpp tree (KM_LLAMA_DIR). F32 models only.

usage: widen_model.py SRC.gguf DST.gguf [MULTIPLE]   (MULTIPLE: 256)
"""
import math
import os
import sys

here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.environ.get('KM_LLAMA_DIR', os.path.join(here, 'llama.cpp')), 'gguf-py'))
import numpy as np  # noqa: E402
import gguf  # noqa: E402


def up(n, m):
    return (n + m - 1) // m * m


def field(r, name):
    f = r.fields.get(name)
    if f is None:
        sys.exit(f'{name}: missing from the source model')
    return f.contents()


def main():
    if len(sys.argv) not in (3, 4):
        sys.exit('usage: widen_model.py SRC.gguf DST.gguf [MULTIPLE]')
    src, dst = sys.argv[1:3]
    mult = int(sys.argv[3]) if len(sys.argv) == 4 else 256
    r = gguf.GGUFReader(src)
    arch = field(r, 'general.architecture')
    if arch != 'llama':
        sys.exit(f'{src}: architecture {arch}; only llama models are widened')
    dim, ffn = field(r, 'llama.embedding_length'), field(r, 'llama.feed_forward_length')
    heads, kv_heads = field(r, 'llama.attention.head_count'), field(r, 'llama.attention.head_count_kv')
    eps = field(r, 'llama.attention.layer_norm_rms_epsilon')
    if dim % heads:
        sys.exit(f'{src}: embedding length {dim} is not a multiple of {heads} heads')
    hd = dim // heads
    group = heads // kv_heads
    dim2, ffn2 = up(dim, mult), up(ffn, mult)
    if dim2 % (hd * group):
        sys.exit(f'{src}: a width of {dim2} does not hold whole head groups of {hd * group}')
    heads2 = dim2 // hd
    kv_heads2 = heads2 // group
    for t in r.tensors:
        if t.tensor_type != gguf.GGMLQuantizationType.F32:
            sys.exit(f'{src}: tensor {t.name} is {t.tensor_type.name}; give an F32 model')

    w = gguf.GGUFWriter(dst, arch=arch)
    changed = {
        'llama.embedding_length': dim2,
        'llama.feed_forward_length': ffn2,
        'llama.attention.head_count': heads2,
        'llama.attention.head_count_kv': kv_heads2,
        'llama.attention.layer_norm_rms_epsilon': eps * dim / dim2,
    }
    for name, f in r.fields.items():
        if name.startswith('GGUF.') or name == 'general.architecture':
            continue
        if name in changed:
            w.add_key_value(name, changed[name], f.types[0])
            continue
        if name == 'general.name':
            w.add_key_value(name, f'{f.contents()} (widened to {mult})', f.types[0])
            continue
        sub = f.types[1] if len(f.types) > 1 else None
        w.add_key_value(name, f.contents(), f.types[0], sub)

    norm_scale = math.sqrt(dim / dim2)

    def pad(a, rows, cols):
        # a: [rows, cols] in numpy order (GGUF's ne reversed)
        out = np.zeros((rows, cols), dtype=np.float32)
        out[: a.shape[0], : a.shape[1]] = a
        return out

    for t in r.tensors:
        a = np.array(t.data, dtype=np.float32).reshape([int(x) for x in reversed(t.shape)])
        n = t.name
        if n.endswith('_norm.weight'):
            b = np.zeros(dim2, dtype=np.float32)
            b[:dim] = a * norm_scale
        elif n in ('token_embd.weight', 'output.weight'):
            b = pad(a, a.shape[0], dim2)
        elif n.endswith('attn_q.weight') or n.endswith('attn_output.weight'):
            b = pad(a, dim2, dim2)
        elif n.endswith('attn_k.weight') or n.endswith('attn_v.weight'):
            b = pad(a, kv_heads2 * hd, dim2)
        elif n.endswith('ffn_gate.weight') or n.endswith('ffn_up.weight'):
            b = pad(a, ffn2, dim2)
        elif n.endswith('ffn_down.weight'):
            b = pad(a, dim2, ffn2)
        else:
            sys.exit(f'{src}: tensor {n} is not one this script knows how to widen')
        w.add_tensor(n, b)

    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()
    print(f'{dst}: dim {dim} -> {dim2}, ffn {ffn} -> {ffn2}, heads {heads}/{kv_heads} -> {heads2}/{kv_heads2} of {hd}')


if __name__ == '__main__':
    main()
