"""A small GGUF v2/v3 reader on numpy, for the peers: enough to load the
weights of a `keymate synth` model (F32, F16, BF16, Q8_0 tensors) into another
framework, with no package beyond numpy.

The format, from the GGUF specification (ggml's docs/gguf.md): a header
(magic, version, tensor count, key/value count), the key/value pairs, the
tensor infos (name, dims with the fastest-varying first, type, offset), then
the tensor data, aligned to general.alignment (32 by default). Tensors are
memory-mapped, not read: a 7B F16 file is 13 GB.
"""
import struct

import numpy as np

GGUF_MAGIC = b"GGUF"

# Value types of the key/value section.
_SCALARS = {0: "<B", 1: "<b", 2: "<H", 3: "<h", 4: "<I", 5: "<i", 6: "<f", 7: "<?", 10: "<Q", 11: "<q", 12: "<d"}
_STRING, _ARRAY = 8, 9

# ggml tensor types this reader decodes: type -> (name, elements per block, bytes per block).
GGML_TYPES = {0: ("f32", 1, 4), 1: ("f16", 1, 2), 8: ("q8_0", 32, 34), 30: ("bf16", 1, 2)}


class GgufError(Exception):
    pass


class _Cursor:
    def __init__(self, buf):
        self.buf, self.at = buf, 0

    def take(self, fmt):
        v = struct.unpack_from(fmt, self.buf, self.at)[0]
        self.at += struct.calcsize(fmt)
        return v

    def string(self):
        n = self.take("<Q")
        s = bytes(self.buf[self.at:self.at + n]).decode("utf-8", errors="replace")
        self.at += n
        return s

    def value(self, vtype):
        if vtype in _SCALARS:
            return self.take(_SCALARS[vtype])
        if vtype == _STRING:
            return self.string()
        if vtype == _ARRAY:
            item, n = self.take("<I"), self.take("<Q")
            return [self.value(item) for _ in range(n)]
        raise GgufError(f"unknown metadata value type {vtype}")


class Tensor:
    def __init__(self, name, dims, ggml_type, offset):
        self.name, self.dims, self.type, self.offset = name, dims, ggml_type, offset

    @property
    def shape(self):
        """numpy shape: ggml's dims reversed (rows, cols) for a matrix."""
        return tuple(reversed(self.dims))

    @property
    def elements(self):
        n = 1
        for d in self.dims:
            n *= d
        return n


class GgufFile:
    """Metadata in .meta (dict), tensor infos in .tensors (dict by name); .array(name)
    returns a tensor as float32 (or float16 with as_f16=True), decoded from the map."""

    def __init__(self, path):
        self.path = path
        self.map = np.memmap(path, dtype=np.uint8, mode="r")
        c = _Cursor(self.map)
        if bytes(self.map[:4]) != GGUF_MAGIC:
            raise GgufError(f"{path}: not a GGUF file (no GGUF magic)")
        c.at = 4
        self.version = c.take("<I")
        if self.version not in (2, 3):
            raise GgufError(f"{path}: GGUF version {self.version} (this reader knows 2 and 3)")
        n_tensors, n_kv = c.take("<Q"), c.take("<Q")
        self.meta = {}
        for _ in range(n_kv):
            key = c.string()
            self.meta[key] = c.value(c.take("<I"))
        self.tensors = {}
        for _ in range(n_tensors):
            name = c.string()
            n_dims = c.take("<I")
            dims = [c.take("<Q") for _ in range(n_dims)]
            self.tensors[name] = Tensor(name, dims, c.take("<I"), c.take("<Q"))
        align = int(self.meta.get("general.alignment", 32))
        self.data_start = (c.at + align - 1) // align * align

    def raw(self, name):
        t = self.tensors[name]
        if t.type not in GGML_TYPES:
            raise GgufError(f"{name}: ggml type {t.type} is not decoded by this reader (f32, f16, bf16, q8_0)")
        _, per_block, block_bytes = GGML_TYPES[t.type]
        if t.elements % per_block:
            raise GgufError(f"{name}: {t.elements} elements are not whole blocks of {per_block}")
        start = self.data_start + t.offset
        end = start + t.elements // per_block * block_bytes
        if end > len(self.map):
            raise GgufError(f"{name}: data runs past the end of the file")
        return t, self.map[start:end]

    def array(self, name, as_f16=False):
        t, b = self.raw(name)
        kind = GGML_TYPES[t.type][0]
        if kind == "f32":
            a = b.view(np.float32)
        elif kind == "f16":
            a = b.view(np.float16)
        elif kind == "bf16":
            a = (b.view(np.uint16).astype(np.uint32) << 16).view(np.float32)
        else:  # q8_0: per block of 32, an f16 scale then 32 int8 quants
            blocks = b.reshape(-1, 34)
            d = blocks[:, :2].copy().view(np.float16).astype(np.float32)
            q = blocks[:, 2:].view(np.int8).astype(np.float32)
            a = (q * d).reshape(-1)
        a = a.reshape(t.shape)
        return a.astype(np.float16 if as_f16 else np.float32, copy=False)

    def hparams(self):
        """The llama-family hyperparameters the forward pass needs."""
        arch = self.meta.get("general.architecture", "llama")

        def get(key, default=None):
            v = self.meta.get(f"{arch}.{key}", default)
            if v is None:
                raise GgufError(f"{self.path}: no {arch}.{key} in the metadata")
            return v

        dim = int(get("embedding_length"))
        heads = int(get("attention.head_count"))
        emb = self.tensors["token_embd.weight"]
        return {
            "architecture": arch,
            "dim": dim,
            "layers": int(get("block_count")),
            "heads": heads,
            "kv_heads": int(get("attention.head_count_kv", heads)),
            "head_dim": int(get("attention.key_length", dim // heads)),
            "ffn": int(get("feed_forward_length")),
            "vocab": int(emb.shape[0]),
            "rope_theta": float(get("rope.freq_base", 10000.0)),
            "eps": float(get("attention.layer_norm_rms_epsilon", 1e-5)),
            "tied_output": "output.weight" not in self.tensors,
            "bos": int(self.meta.get("tokenizer.ggml.bos_token_id", 1)),
            "parameters": sum(t.elements for t in self.tensors.values()),
        }
