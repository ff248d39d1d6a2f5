// The recommended models: small-to-7B instruct GGUFs a first run can fetch,
// with whether each fits this machine in each weight format. The fit comes
// from the engine's own memory plan (planShape: the same make_plan that
// planMemory applies to a file, fed the tensors a file of this shape holds;
// the formula exists once, in native/src/memory_plan.cpp), judged against the
// first CUDA device's memory, or system memory when there is no usable GPU.
//
// The facts: shapes are the models' published config.json values; sizes are
// the files' sizes as listed on Hugging Face, rounded to the MB shown there
// (the download itself trusts only the server's length and the checksum).
// sha256 is null for every entry: none is known here for certain, so those
// downloads are checked by length and GGUF header only. For a Q4_K_M file the
// "native" plan counts every matrix as q4_K; the real file mixes in some q6_K,
// so its native need is a few percent higher than shown.
import * as os from 'node:os';

import type { FormatFit, ModelShape, RecommendedList, RecommendedModel } from '../../../common/contract';
import { type BackendReport, type FormatList, type MemoryPlan, type ModelShape as NativeShape, engineFormats, planShape, probeBackends } from '../engine/engine';
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

export const RECOMMENDED: readonly RecommendedFacts[] = [
  {
    id: 'smollm2-135m-instruct-q8_0',
    title: 'SmolLM2 135M Instruct (Q8_0)',
    url: 'https://huggingface.co/HuggingFaceTB/SmolLM2-135M-Instruct-GGUF/resolve/main/smollm2-135m-instruct-q8_0.gguf',
    name: 'smollm2-135m-instruct-q8_0',
    size_bytes: 145 * MB,
    params: 134_515_008,
    quant: 'Q8_0',
    file_type: 'q8_0',
    tied_output: true,
    license: 'Apache-2.0',
    shape: { layers: 30, dim: 576, heads: 9, kv_heads: 3, ffn: 1536, vocab: 49152, context_length: 8192 },
  },
  {
    id: 'smollm2-360m-instruct-q8_0',
    title: 'SmolLM2 360M Instruct (Q8_0)',
    url: 'https://huggingface.co/HuggingFaceTB/SmolLM2-360M-Instruct-GGUF/resolve/main/smollm2-360m-instruct-q8_0.gguf',
    name: 'smollm2-360m-instruct-q8_0',
    size_bytes: 386 * MB,
    params: 361_821_120,
    quant: 'Q8_0',
    file_type: 'q8_0',
    tied_output: true,
    license: 'Apache-2.0',
    shape: { layers: 32, dim: 960, heads: 15, kv_heads: 5, ffn: 2560, vocab: 49152, context_length: 8192 },
  },
  {
    id: 'qwen2.5-0.5b-instruct-q8_0',
    title: 'Qwen2.5 0.5B Instruct (Q8_0)',
    url: 'https://huggingface.co/Qwen/Qwen2.5-0.5B-Instruct-GGUF/resolve/main/qwen2.5-0.5b-instruct-q8_0.gguf',
    name: 'qwen2.5-0.5b-instruct-q8_0',
    size_bytes: 676 * MB,
    params: 494_032_768,
    quant: 'Q8_0',
    file_type: 'q8_0',
    tied_output: true,
    license: 'Apache-2.0',
    shape: { layers: 24, dim: 896, heads: 14, kv_heads: 2, ffn: 4864, vocab: 151936, context_length: 32768 },
  },
  {
    id: 'llama-3.2-1b-instruct-q8_0',
    title: 'Llama 3.2 1B Instruct (Q8_0)',
    url: 'https://huggingface.co/bartowski/Llama-3.2-1B-Instruct-GGUF/resolve/main/Llama-3.2-1B-Instruct-Q8_0.gguf',
    name: 'Llama-3.2-1B-Instruct-Q8_0',
    size_bytes: 1321 * MB,
    params: 1_235_814_400,
    quant: 'Q8_0',
    file_type: 'q8_0',
    tied_output: true,
    license: 'Llama 3.2 Community License',
    shape: { layers: 16, dim: 2048, heads: 32, kv_heads: 8, ffn: 8192, vocab: 128256, context_length: 131072 },
  },
  {
    id: 'qwen2.5-1.5b-instruct-q8_0',
    title: 'Qwen2.5 1.5B Instruct (Q8_0)',
    url: 'https://huggingface.co/Qwen/Qwen2.5-1.5B-Instruct-GGUF/resolve/main/qwen2.5-1.5b-instruct-q8_0.gguf',
    name: 'qwen2.5-1.5b-instruct-q8_0',
    size_bytes: 1894 * MB,
    params: 1_543_714_304,
    quant: 'Q8_0',
    file_type: 'q8_0',
    tied_output: true,
    license: 'Apache-2.0',
    shape: { layers: 28, dim: 1536, heads: 12, kv_heads: 2, ffn: 8960, vocab: 151936, context_length: 32768 },
  },
  {
    id: 'mistral-7b-instruct-v0.3-q4_k_m',
    title: 'Mistral 7B Instruct v0.3 (Q4_K_M)',
    url: 'https://huggingface.co/bartowski/Mistral-7B-Instruct-v0.3-GGUF/resolve/main/Mistral-7B-Instruct-v0.3-Q4_K_M.gguf',
    name: 'Mistral-7B-Instruct-v0.3-Q4_K_M',
    size_bytes: 4372 * MB,
    params: 7_248_023_552,
    quant: 'Q4_K_M',
    file_type: 'q4_K',
    tied_output: false,
    license: 'Apache-2.0',
    shape: { layers: 32, dim: 4096, heads: 32, kv_heads: 8, ffn: 14336, vocab: 32768, context_length: 32768 },
  },
  {
    id: 'qwen2.5-7b-instruct-q4_k_m',
    title: 'Qwen2.5 7B Instruct (Q4_K_M)',
    url: 'https://huggingface.co/bartowski/Qwen2.5-7B-Instruct-GGUF/resolve/main/Qwen2.5-7B-Instruct-Q4_K_M.gguf',
    name: 'Qwen2.5-7B-Instruct-Q4_K_M',
    size_bytes: 4683 * MB,
    params: 7_615_616_512,
    quant: 'Q4_K_M',
    file_type: 'q4_K',
    tied_output: false,
    license: 'Apache-2.0',
    shape: { layers: 28, dim: 3584, heads: 28, kv_heads: 4, ffn: 18944, vocab: 152064, context_length: 32768 },
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
export function memoryTarget(backends: BackendReport, totalmem: number = os.totalmem()): MemoryTarget {
  const gpu = backends.cuda.available ? backends.cuda.devices[0] : undefined;
  if (gpu !== undefined) return { where: 'gpu', device: gpu.name, bytes: gpu.memoryMb * MIB };
  return { where: 'cpu', device: 'system memory', bytes: totalmem };
}

export interface RecommendedDeps {
  backends?: () => BackendReport;
  formats?: () => FormatList;
  plan?: (shape: NativeShape, options: { weights: string; kv: string; context: number; vramBytes: number }) => MemoryPlan;
  totalmem?: () => number;
}

/** The list with fits; `inLibrary` says which names are already downloaded. */
export function recommendedList(network: NetworkStatus, inLibrary: (name: string) => boolean, deps: RecommendedDeps = {}): RecommendedList {
  const target = memoryTarget((deps.backends ?? probeBackends)(), (deps.totalmem ?? os.totalmem)());
  const weightFormats = (deps.formats ?? engineFormats)().weights.filter((f) => f.sameAs === '').map((f) => f.name);
  const plan = deps.plan ?? planShape;
  const models: RecommendedModel[] = RECOMMENDED.map((r) => {
    const shape: NativeShape = {
      layers: r.shape.layers,
      dim: r.shape.dim,
      heads: r.shape.heads,
      kvHeads: r.shape.kv_heads,
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
