// The names the command line and the UI use for backends, weight and KV-cache
// formats, bench paths and synthetic model types, defined once. The engine
// decides what it can run today and says so in its errors; these lists are
// the vocabulary (DESIGN.md, "The command line"). GGUF_TENSOR_TYPES mirrors
// native/include/keymate/ggml_types.h, and a test holds the two together.

export const BACKENDS = ['auto', 'cpu', 'cuda'] as const;
export type Backend = (typeof BACKENDS)[number];

/**
 * Weight formats the engine runs, in the engine's order (native/src/quant/
 * weight_formats.cpp; a test holds the two together). `native` keeps what the
 * file holds; `-gN` is the group size of the scales; the bare names int8, int4
 * and nf4 are the engine's aliases of their -g32 forms, fp8 has one scale per
 * output channel.
 */
export const WEIGHT_FORMATS = [
  'native',
  'f16',
  'fp8',
  'fp8-g128',
  'int8',
  'int8-g32',
  'int8-g128',
  'int4',
  'int4-g32',
  'int4-g64',
  'int4-g128',
  'nf4',
  'nf4-g32',
  'nf4-g64',
  'nf4-g128',
  'w8a8',
] as const;
export type WeightFormat = (typeof WEIGHT_FORMATS)[number];

/** KV-cache formats, in the engine's order; fp8 is the alias of fp8-e4m3. */
export const KV_FORMATS = ['f16', 'int8', 'fp8', 'fp8-e4m3', 'fp8-e5m2'] as const;
export type KvFormat = (typeof KV_FORMATS)[number];

/** How a GPU token is launched: one kernel per op, a CUDA graph, or the armed persistent kernel. */
export const BENCH_PATHS = ['launch', 'graph', 'zero-launch'] as const;
export type BenchPath = (typeof BENCH_PATHS)[number];

/** Tensor types `keymate synth` can write. */
export const SYNTH_TYPES = ['f32', 'f16', 'bf16', 'q8_0', 'q4_0'] as const;
export type SynthType = (typeof SYNTH_TYPES)[number];

/** GGUF tensor type numbers (the file format's, i.e. ggml's) and the names llama.cpp prints. */
export const GGUF_TENSOR_TYPES: Readonly<Record<number, string>> = {
  0: 'f32',
  1: 'f16',
  2: 'q4_0',
  3: 'q4_1',
  6: 'q5_0',
  7: 'q5_1',
  8: 'q8_0',
  9: 'q8_1',
  10: 'q2_k',
  11: 'q3_k',
  12: 'q4_k',
  13: 'q5_k',
  14: 'q6_k',
  15: 'q8_k',
  24: 'i8',
  25: 'i16',
  26: 'i32',
  27: 'i64',
  28: 'f64',
  30: 'bf16',
};

export function isOneOf<T extends string>(list: readonly T[], value: string): value is T {
  return (list as readonly string[]).includes(value);
}
