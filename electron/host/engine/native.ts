// Hand-written typings of the N-API addon (native/addon/), kept beside the
// loader instead of a generated .d.ts so that every field is reviewed by a
// person when the C++ side changes. The handle type is branded: only an
// object made by the addon's EngineHandle constructor has it, so a look-alike
// object cannot be passed where an engine handle is expected.
//
// Conventions of the addon: wrong argument types throw TypeError, values out
// of range throw RangeError, synchronously; a call the handle cannot run now
// (another operation running, no model loaded) rejects its Promise; engine
// failures reject with the engine's message ("model.gguf: not a GGUF file").

/** Bumped with every change of the surface below; the loader refuses a mismatch. */
export const ADDON_ABI_VERSION = 1;

declare const engineHandleBrand: unique symbol;

export type NativeBackendName = 'auto' | 'cpu' | 'cuda';

export interface NativeLoadOptions {
  backend?: NativeBackendName;
  /** CPU worker threads; 0 = physical cores. */
  threads?: number;
  /** KV cache length in tokens; 0 = min(model context, 4096). */
  context?: number;
  /** Weight format to run ("native" = as in the file). */
  weights?: string;
  /** KV cache format ("f16", ...). */
  kv?: string;
  /** Collect per-stage timings (adds a barrier per stage). */
  profile?: boolean;
}

export interface NativeSyntheticSpec {
  /** A named real shape: "tiny-125m", "llama3.2-1b", "llama2-7b", ... */
  shape: string;
  /** "f32" | "f16" | "bf16" | "q8_0" | "q4_0"; default "f16". */
  type?: string;
  /** Same seed, same weights, on every machine. */
  seed?: number | bigint;
}

export interface NativeSynthSpec extends NativeSyntheticSpec {
  /** The vocabulary GGUF the shape needs, or its folder; searched for when absent. */
  vocab?: string;
}

export interface NativeGenerateRequest {
  prompt: string;
  /** 0 only prefills the prompt into the KV cache (a warm-up for the prefix cache). */
  maxTokens?: number;
  /** 0 = greedy. */
  temperature?: number;
  topK?: number;
  topP?: number;
  minP?: number;
  repeatPenalty?: number;
  repeatLastN?: number;
  seed?: number | bigint;
  /** Prepend BOS as the model's metadata asks (default true). */
  addBos?: boolean;
  /** Text like "<|eot_id|>" becomes its special token (default true). */
  parseSpecial?: boolean;
}

export interface NativeTokenEvent {
  token: number;
  /** Complete UTF-8 only: a character split across tokens arrives whole, with the later token. */
  text: string;
  /** 0-based among generated tokens. */
  index: number;
  /** Milliseconds since the request started. */
  tMs: number;
}

export type NativeStopReason = 'eos' | 'length' | 'cancelled' | 'context';

export interface NativeGenerateResult {
  /** The generated text only, without the prompt. */
  completion: string;
  tokens: number[];
  promptTokens: number;
  /** Leading prompt tokens whose K/V were reused from the previous request (prefix cache). */
  cachedTokens: number;
  ttftMs: number;
  prefillMs: number;
  decodeTokS: number;
  stop: NativeStopReason;
}

export interface NativeBenchRequest {
  promptTokens?: number;
  genTokens?: number;
  repeat?: number;
  path?: 'launch' | 'graph' | 'zero-launch';
}

export interface NativeStageTimes {
  embed: number;
  qkv: number;
  attention: number;
  ffn: number;
  logits: number;
  other: number;
}

export interface NativeBenchResult {
  backend: string;
  device: string;
  path: string;
  promptTokens: number;
  genTokens: number;
  repeat: number;
  threads: number;
  ttftMs: { min: number; median: number; p90: number };
  prefillTokS: number;
  decodeTokS: number;
  decodeMsPerToken: number;
  /** Per decoded token. */
  stagesMs: NativeStageTimes;
  /** Bytes read per decoded token / measured memory bandwidth. */
  boundMs: number;
  bandwidthGbS: number;
}

export interface NativeModelInfo {
  path: string;
  architecture: string;
  name: string;
  parameters: number;
  weightBytes: number;
  /** Tensor type name ("q8_0") -> number of tensors. */
  tensorTypes: Record<string, number>;
  contextLength: number;
  vocab: number;
  dim: number;
  layers: number;
  heads: number;
  kvHeads: number;
  ffn: number;
  tokenizer: string;
  /** The GGUF's tokenizer.chat_template (Jinja source); "" when the file has none. */
  chatTemplate: string;
  /** Texts of BOS and EOS, which chat templates refer to; "" when the model has none. */
  bosToken: string;
  eosToken: string;
}

/** The backend an engine runs on, chosen once at load. */
export interface NativeBackendInfo {
  name: string;
  device: string;
  /** KV cache capacity in tokens. */
  context: number;
}

export interface NativeCudaDevice {
  name: string;
  cc: number;
  memoryMb: number;
  driver: string;
}

export interface NativeBackendReport {
  cpu: { available: boolean; simd: string; threads: number };
  cuda: {
    compiled: boolean;
    archs: number[];
    available: boolean;
    /** Why CUDA is not available, in words; empty when it is. */
    reason: string;
    devices: NativeCudaDevice[];
  };
}

export interface NativeEngineHandle {
  readonly [engineHandleBrand]: true;
  /** The running operation ("load", "generate", "bench"), or null. */
  readonly busy: string | null;
  readonly loaded: boolean;
  /** Loads a GGUF file; the previous model, if any, stays until the new one is ready. */
  load(path: string, options?: NativeLoadOptions): Promise<void>;
  loadSynthetic(spec: NativeSyntheticSpec, options?: NativeLoadOptions): Promise<void>;
  /** onToken runs once per token, in order; a throw there stops generation and rejects. */
  generate(request: NativeGenerateRequest, onToken: (event: NativeTokenEvent) => void): Promise<NativeGenerateResult>;
  /** Stops a running generation between tokens; true when one was running. */
  cancel(): boolean;
  tokenize(text: string, options?: { addSpecial?: boolean; parseSpecial?: boolean }): number[];
  info(): NativeModelInfo;
  backend(): NativeBackendInfo;
  bench(request?: NativeBenchRequest): Promise<NativeBenchResult>;
  /** Frees the model now instead of at garbage collection. */
  close(): void;
}

export interface NativeEngineHandleClass {
  new (): NativeEngineHandle;
  probeBackends(): NativeBackendReport;
  /** Writes a synthetic model as a GGUF file (atomically: temp file + rename); resolves to its size in bytes. */
  synth(spec: NativeSynthSpec, out: string): Promise<number>;
}

export interface NativeAddon {
  readonly abiVersion: number;
  readonly EngineHandle: NativeEngineHandleClass;
}
