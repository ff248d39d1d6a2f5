// The recommended models: the small instruct GGUFs people download for a
// local companion, with whether each fits this machine in each weight format.
// The fit comes from the engine's own memory plan (planShape: the same
// make_plan that planMemory applies to a file, fed the tensors a file of this
// shape holds; the formula exists once, in native/src/memory_plan.cpp), judged
// against the first CUDA device's memory, or system memory when there is no
// usable GPU.
//
// The facts: shapes are the models' published config.json values (head_dim
// only where it is not dim/heads: Qwen3's 128, Gemma 3's 256); params are
// counted from that shape as the GGUF holds it (Gemma 3 4B: the text model,
// its vision tower is a separate mmproj file). Sizes are the files' byte
// counts where several published listings agree, else rounded to the MB
// (marked "rounded"); the download itself trusts only the server's length and
// the checksum. sha256 is null for every entry: none is known here for
// certain, so those downloads are checked by length and GGUF header only. Each
// tied_output was checked against the file size (an untied Qwen3 0.6B would be
// a fifth bigger). For a Q4_K_M file the "native" plan counts every matrix as
// q4_K; the real file mixes in some q6_K, so its native need is a few percent
// higher than shown.
import * as os from 'node:os';

import type { FormatFit, ModelShape, RecommendedList, RecommendedModel } from '../../../common/contract';
import { engineFormats, planShape, probeBackends } from '../engine/native-engine';
import type { NativeBackendReport, NativeFormatList, NativeMemoryPlan, NativeModelShape } from '../engine/native';
import type { NetworkStatus } from './network';

export interface RecommendedFacts {
  id: string;
  title: string;
  url: string;
  name: string;
  size_bytes: number;
  params: number;
  quant: string;
  /** The ggml type the file's matrices are stored in, for the "native" plan. */
  file_type: string;
  tied_output: boolean;
  license: string;
  shape: ModelShape;
}

const MB = 1_000_000;
const HF = 'https://huggingface.co';
const GEMMA = 'Gemma Terms of Use';
const LLAMA = 'Llama 3.2 Community License';

/** Smallest first: the first-run screen reads top to bottom as "what this machine can run". */
export const RECOMMENDED: readonly RecommendedFacts[] = [
  {
    id: 'gemma-3-270m-it-q8_0',
    title: 'Gemma 3 270M (Q8_0)',
    url: `${HF}/ggml-org/gemma-3-270m-it-GGUF/resolve/main/gemma-3-270m-it-Q8_0.gguf`,
    name: 'gemma-3-270m-it-Q8_0',
    size_bytes: 291_545_600,
    params: 268_098_176,
    quant: 'Q8_0',
    file_type: 'q8_0',
    tied_output: true,
    license: GEMMA,
    shape: { layers: 18, dim: 640, heads: 4, kv_heads: 1, head_dim: 256, ffn: 2048, vocab: 262144, context_length: 32768 },
  },
  {
    id: 'qwen3-0.6b-q8_0',
    title: 'Qwen3 0.6B (Q8_0)',
    url: `${HF}/Qwen/Qwen3-0.6B-GGUF/resolve/main/Qwen3-0.6B-Q8_0.gguf`,
    name: 'Qwen3-0.6B-Q8_0',
    size_bytes: 639_446_688,
    params: 596_049_920,
    quant: 'Q8_0',
    file_type: 'q8_0',
    tied_output: true,
    license: 'Apache-2.0',
    shape: { layers: 28, dim: 1024, heads: 16, kv_heads: 8, head_dim: 128, ffn: 3072, vocab: 151936, context_length: 40960 },
  },
  {
    id: 'gemma-3-1b-it-q4_k_m',
    title: 'Gemma 3 1B (Q4_K_M)',
    url: `${HF}/ggml-org/gemma-3-1b-it-GGUF/resolve/main/gemma-3-1b-it-Q4_K_M.gguf`,
    name: 'gemma-3-1b-it-Q4_K_M',
    size_bytes: 806_058_240,
    params: 999_885_952,
    quant: 'Q4_K_M',
    file_type: 'q4_K',
    tied_output: true,
    license: GEMMA,
    shape: { layers: 26, dim: 1152, heads: 4, kv_heads: 1, head_dim: 256, ffn: 6912, vocab: 262144, context_length: 32768 },
  },
  {
    id: 'llama-3.2-1b-instruct-q4_k_m',
    title: 'Llama 3.2 1B Instruct (Q4_K_M)',
    url: `${HF}/bartowski/Llama-3.2-1B-Instruct-GGUF/resolve/main/Llama-3.2-1B-Instruct-Q4_K_M.gguf`,
    name: 'Llama-3.2-1B-Instruct-Q4_K_M',
    size_bytes: 807_694_464,
    params: 1_235_814_400,
    quant: 'Q4_K_M',
    file_type: 'q4_K',
    tied_output: true,
    license: LLAMA,
    shape: { layers: 16, dim: 2048, heads: 32, kv_heads: 8, ffn: 8192, vocab: 128256, context_length: 131072 },
  },
  {
    id: 'qwen3-1.7b-q8_0',
    title: 'Qwen3 1.7B (Q8_0)',
    url: `${HF}/Qwen/Qwen3-1.7B-GGUF/resolve/main/Qwen3-1.7B-Q8_0.gguf`,
    name: 'Qwen3-1.7B-Q8_0',
    size_bytes: 1834 * MB, // rounded
    params: 1_720_574_976,
    quant: 'Q8_0',
    file_type: 'q8_0',
    tied_output: true,
    license: 'Apache-2.0',
    shape: { layers: 28, dim: 2048, heads: 16, kv_heads: 8, ffn: 6144, vocab: 151936, context_length: 40960 },
  },
  {
    id: 'smollm3-3b-q4_k_m',
    title: 'SmolLM3 3B (Q4_K_M)',
    url: `${HF}/ggml-org/SmolLM3-3B-GGUF/resolve/main/SmolLM3-Q4_K_M.gguf`,
    name: 'SmolLM3-Q4_K_M',
    size_bytes: 1925 * MB, // rounded
    params: 3_075_098_624,
    quant: 'Q4_K_M',
    file_type: 'q4_K',
    tied_output: true,
    license: 'Apache-2.0',
    shape: { layers: 36, dim: 2048, heads: 16, kv_heads: 4, ffn: 11008, vocab: 128256, context_length: 65536 },
  },
  {
    id: 'llama-3.2-3b-instruct-q4_k_m',
    title: 'Llama 3.2 3B Instruct (Q4_K_M)',
    url: `${HF}/bartowski/Llama-3.2-3B-Instruct-GGUF/resolve/main/Llama-3.2-3B-Instruct-Q4_K_M.gguf`,
    name: 'Llama-3.2-3B-Instruct-Q4_K_M',
    size_bytes: 2_019_377_696,
    params: 3_212_749_824,
    quant: 'Q4_K_M',
    file_type: 'q4_K',
    tied_output: true,
    license: LLAMA,
    shape: { layers: 28, dim: 3072, heads: 24, kv_heads: 8, ffn: 8192, vocab: 128256, context_length: 131072 },
  },
  {
    id: 'gemma-3-4b-it-q4_k_m',
    title: 'Gemma 3 4B (Q4_K_M)',
    url: `${HF}/ggml-org/gemma-3-4b-it-GGUF/resolve/main/gemma-3-4b-it-Q4_K_M.gguf`,
    name: 'gemma-3-4b-it-Q4_K_M',
    size_bytes: 2_489_757_856,
    params: 3_880_263_168,
    quant: 'Q4_K_M',
    file_type: 'q4_K',
    tied_output: true,
    license: GEMMA,
    shape: { layers: 34, dim: 2560, heads: 8, kv_heads: 4, head_dim: 256, ffn: 10240, vocab: 262208, context_length: 131072 },
  },
  {
    id: 'phi-4-mini-instruct-q4_k_m',
    title: 'Phi-4-mini Instruct (Q4_K_M)',
    url: `${HF}/unsloth/Phi-4-mini-instruct-GGUF/resolve/main/Phi-4-mini-instruct-Q4_K_M.gguf`,
    name: 'Phi-4-mini-instruct-Q4_K_M',
    size_bytes: 2_491_874_272,
    params: 3_836_021_760,
    quant: 'Q4_K_M',
    file_type: 'q4_K',
    tied_output: true,
    license: 'MIT',
    shape: { layers: 32, dim: 3072, heads: 24, kv_heads: 8, ffn: 8192, vocab: 200064, context_length: 131072 },
  },
  {
    id: 'qwen3-4b-q4_k_m',
    title: 'Qwen3 4B (Q4_K_M)',
    url: `${HF}/Qwen/Qwen3-4B-GGUF/resolve/main/Qwen3-4B-Q4_K_M.gguf`,
    name: 'Qwen3-4B-Q4_K_M',
    size_bytes: 2497 * MB, // rounded
    params: 4_022_468_096,
    quant: 'Q4_K_M',
    file_type: 'q4_K',
    tied_output: true,
    license: 'Apache-2.0',
    shape: { layers: 36, dim: 2560, heads: 32, kv_heads: 8, head_dim: 128, ffn: 9728, vocab: 151936, context_length: 40960 },
  },
];

/** The KV cache the fits are planned for: what a key press needs, not the model's whole trained context. */
export const PLAN_CONTEXT = 4096;
export const PLAN_KV = 'f16';

const MIB = 1024 * 1024;

export interface MemoryTarget {
  where: 'gpu' | 'cpu';
  device: string;
  bytes: number;
}

/** The first usable CUDA device, else system memory. */
export function memoryTarget(backends: NativeBackendReport, totalmem: number = os.totalmem()): MemoryTarget {
  const gpu = backends.cuda.available ? backends.cuda.devices[0] : undefined;
  if (gpu !== undefined) return { where: 'gpu', device: gpu.name, bytes: gpu.memoryMb * MIB };
  return { where: 'cpu', device: 'system memory', bytes: totalmem };
}

export interface RecommendedDeps {
  backends?: () => NativeBackendReport;
  formats?: () => NativeFormatList;
  plan?: (shape: NativeModelShape, options: { weights: string; kv: string; context: number; vramBytes: number }) => NativeMemoryPlan;
  totalmem?: () => number;
}

/** The list with fits; `inLibrary` says which names are already downloaded. */
export function recommendedList(network: NetworkStatus, inLibrary: (name: string) => boolean, deps: RecommendedDeps = {}): RecommendedList {
  const target = memoryTarget((deps.backends ?? probeBackends)(), (deps.totalmem ?? os.totalmem)());
  const weightFormats = (deps.formats ?? engineFormats)().weights.filter((f) => f.sameAs === '').map((f) => f.name);
  const plan = deps.plan ?? planShape;
  const models: RecommendedModel[] = RECOMMENDED.map((r) => {
    const shape: NativeModelShape = {
      layers: r.shape.layers,
      dim: r.shape.dim,
      heads: r.shape.heads,
      kvHeads: r.shape.kv_heads,
      headDim: r.shape.head_dim,
      ffn: r.shape.ffn,
      vocab: r.shape.vocab,
      contextLength: r.shape.context_length,
      tiedOutput: r.tied_output,
      fileType: r.file_type,
    };
    const context = Math.min(PLAN_CONTEXT, r.shape.context_length);
    const fits: Record<string, FormatFit> = {};
    for (const weights of weightFormats) {
      const p = plan(shape, { weights, kv: PLAN_KV, context, vramBytes: target.bytes });
      fits[weights] = { fits: p.fits, need_mb: Math.ceil(p.totalBytes / MIB), have_mb: Math.floor(target.bytes / MIB), where: target.where };
    }
    return {
      id: r.id,
      title: r.title,
      url: r.url,
      name: r.name,
      sha256: null,
      size_bytes: r.size_bytes,
      params: r.params,
      quant: r.quant,
      license: r.license,
      shape: r.shape,
      fits,
      in_library: inLibrary(r.name),
    };
  });
  return {
    models,
    memory: { where: target.where, device: target.device, have_mb: Math.floor(target.bytes / MIB), context: PLAN_CONTEXT, kv: PLAN_KV },
    network,
  };
}
