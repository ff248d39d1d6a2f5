#!/usr/bin/env python3
"""A copy of a vocabulary GGUF with tokenizer.ggml.pre set to another
pre-tokenizer name: test vectors for a pre-tokenizer llama.cpp ships no
vocabulary for (the tokens and merges are the same, only the splits differ).
Uses the gguf-py of the llama.cpp tree (KM_LLAMA_DIR).

usage: vocab_variant.py SRC.gguf DST.gguf PRE
"""
import os
import sys

here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.environ.get('KM_LLAMA_DIR', os.path.join(here, 'llama.cpp')), 'gguf-py'))
import gguf  # noqa: E402


def text(field, i):
    return bytes(field.parts[i]).decode('utf-8')


def main():
    if len(sys.argv) != 4:
        sys.exit('usage: vocab_variant.py SRC.gguf DST.gguf PRE')
    src, dst, pre = sys.argv[1:]
    r = gguf.GGUFReader(src)
    if r.tensors:
        sys.exit(f'{src}: holds tensors; give a vocabulary-only GGUF')
    w = gguf.GGUFWriter(dst, arch=None)
    for name, f in r.fields.items():
        if name.startswith('GGUF.'):
            continue
        t = f.types[0]
        if name == 'tokenizer.ggml.pre':
            w.add_string(name, pre)
        elif t == gguf.GGUFValueType.ARRAY:
            sub = f.types[1]
            vals = [text(f, i) if sub == gguf.GGUFValueType.STRING else f.parts[i].tolist()[0] for i in f.data]
            w.add_key_value(name, vals, t, sub_type=sub)
        elif t == gguf.GGUFValueType.STRING:
            w.add_key_value(name, text(f, f.data[0]), t)
        else:
            w.add_key_value(name, f.parts[f.data[0]].tolist()[0], t)
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()


main()
