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

import type { BenchPath } from '../../../common/formats';

/** Bumped with every change of the surface below; the loader refuses a mismatch. */
export const ADDON_ABI_VERSION = 6;

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
  /**
   * Importance for the scale search of converted weights: "auto" (default: the
   * 4-bit formats measure it on the engine's calibration text, once per model),
   * "off", or the path of an imatrix GGUF (llama-imatrix's format).
   */
  imatrix?: string;
  /** Where "auto" keeps what it measured ("" = measured at every load). */
  imatrixCache?: string;
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
  /** Jinja source written as tokenizer.chat_template instead of the vocabulary's. */
  chatTemplate?: string;
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
  /** Why the CUDA backend failed during this request and the engine finished it on the CPU; null if it did not. */
  fallback: string | null;
  /** Per decoded token, by stage: only when loaded with profile on and a token was decoded. */
  stagesMs: NativeStageTimes | null;
}

export interface NativeBenchRequest {
  promptTokens?: number;
  genTokens?: number;
  repeat?: number;
  path?: BenchPath;
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
  path: BenchPath;
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
  /** The weight format as loaded, by its canonical name ("int4-g32"; "native" keeps the file's types). */
  weights: string;
  /** The KV cache format, by its canonical name. */
  kv: string;
  /** Where the scale search's importance came from, in words ("none ..." when unweighted). */
  importance: string;
  /** The backend running the model now. */
  backend: 'cpu' | 'cuda';
  /** Why the engine runs on the CPU although CUDA was chosen (a failure at load or mid-reply); null if it does not. */
  backendFallback: string | null;
}

export interface NativeEvalRequest {
  /** The text to score (the file's contents, not its path). */
  text: string;
  /** Tokens per chunk (default 128); the second half of each chunk is scored. */
  ctx?: number;
  /** 0 = every whole chunk of the text. */
  maxChunks?: number;
  /** "" = the loaded file with its stored weights; or another GGUF of the same vocabulary. */
  reference?: string;
}

/** The loaded engine against its full-precision reference, over the scored tokens. */
export interface NativeEvalResult {
  /** Mean KL(reference || engine), nats per scored token. */
  kldMean: number;
  kldP99: number;
  kldMedian: number;
  kldMax: number;
  /** Fraction of scored tokens whose argmax matches the reference's. */
  top1Agreement: number;
  ppl: number;
  pplRef: number;
  /** Scored tokens. */
  tokens: number;
  chunks: number;
  ctx: number;
  /** Tokens of the whole text, BOS included. */
  textTokens: number;
  weights: string;
  kv: string;
  /** Stopped by cancel(): the numbers cover the chunks done. */
  cancelled: boolean;
  ms: number;
}

export interface NativePlanOptions {
  /** Tokens the KV cache is planned for; 0 = the model's (or the engine's) context. */
  context?: number;
  /** GPU memory to plan against; 0 = none (fits is then false, maxContext 0). */
  vramBytes?: number;
}

export interface NativePlanMemoryOptions extends NativePlanOptions {
  /** Weight format name (default "native"). */
  weights?: string;
  /** KV cache format name (default "f16"). */
  kv?: string;
}

/** What a model takes in memory in given formats, and whether it fits vramBytes. */
export interface NativeMemoryPlan {
  weights: string;
  kv: string;
  context: number;
  weightsBytes: number;
  /** K and V of all layers, scales included. */
  kvBytesPerToken: number;
  kvBytes: number;
  /** Forward-pass buffers for one prefill batch. */
  activationBytes: number;
  /** The runtime's own (CUDA context, workspaces). */
  reserveBytes: number;
  totalBytes: number;
  vramBytes: number;
  fits: boolean;
  /** Longest context (<= the model's) that fits vramBytes; 0 = none. */
  maxContext: number;
}

/** A llama-family model known only by its shape (not downloaded yet). */
export interface NativeModelShape {
  layers: number;
  dim: number;
  heads: number;
  kvHeads: number;
  /** Attention head size; 0 or absent: dim / heads (Qwen3 and Gemma 3 give their own). */
  headDim?: number;
  ffn: number;
  vocab: number;
  /** The trained context. */
  contextLength: number;
  /** No output.weight: the embedding doubles as it (default false). */
  tiedOutput?: boolean;
  /** How the file stores its matrices: a ggml type name ("f16", "q8_0", "q4_K"); default "f16". */
  fileType?: string;
}

/** One row of the engine's format table (--weights / --kv names), in the engine's order. */
export interface NativeFormatInfo {
  name: string;
  /** For an alias ("int4"), the name it stands for; else "". */
  sameAs: string;
  /** Bits per weight (per cached element for KV), scales included; 0 for native. */
  bits: number;
  about: string;
}

export interface NativeFormatList {
  weights: NativeFormatInfo[];
  kv: NativeFormatInfo[];
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

/** What saveState wrote or loadState read. */
export interface NativeStateInfo {
  /** Positions whose K/V the file holds: the prefix cache's tokens. */
  tokens: number;
  /** The file's size. */
  bytes: number;
}

export interface NativeEngineHandle {
  readonly [engineHandleBrand]: true;
  /** The running operation ("load", "generate", "bench", "eval", "saveState", "loadState"), or null. */
  readonly busy: string | null;
  readonly loaded: boolean;
  /** Loads a GGUF file; the previous model, if any, stays until the new one is ready. */
  load(path: string, options?: NativeLoadOptions): Promise<void>;
  loadSynthetic(spec: NativeSyntheticSpec, options?: NativeLoadOptions): Promise<void>;
  /**
   * onToken runs once per token, in order; a throw there stops generation and rejects. A number
   * it returns is how many milliseconds the engine may hold the following tokens before handing
   * them over (0, the start, at once): a wake-up of the JS thread per token costs a fast model
   * much of its speed, and a screen shows a frame at a time.
   */
  generate(request: NativeGenerateRequest, onToken: (event: NativeTokenEvent) => number | void): Promise<NativeGenerateResult>;
  /** Stops a running generation between tokens, or an eval between chunks; true when one was running. */
  cancel(): boolean;
  /**
   * Engine pacing, the thermal policy's brake: each decoded token takes at least `ms` (0 = off,
   * at most 60000). Allowed while a generation runs (the next token obeys it); kept for models loaded later.
   */
  setPacing(ms: number): void;
  tokenize(text: string, options?: { addSpecial?: boolean; parseSpecial?: boolean }): number[];
  info(): NativeModelInfo;
  backend(): NativeBackendInfo;
  bench(request?: NativeBenchRequest): Promise<NativeBenchResult>;
  /** KLD, top-1 agreement and perplexity against the full-precision model; rejects when the text is shorter than two chunks. */
  eval(request: NativeEvalRequest): Promise<NativeEvalResult>;
  /**
   * Writes the KV cache and the tokens it holds to `path` (a .kmkv file), atomically: a temporary
   * file beside it, then a rename. Busy while it runs, like generate.
   */
  saveState(path: string): Promise<NativeStateInfo>;
  /**
   * Loads a file saveState wrote, for this model and these weight and KV formats (either backend
   * may have written it). The whole file is checked first; a damaged file, another model or format,
   * or more tokens than the context rejects with one line naming the problem, the cache as it was.
   * Afterwards a generate whose prompt starts with the file's tokens prefills only the rest.
   */
  loadState(path: string): Promise<NativeStateInfo>;
  /** The memory plan of the loaded model in its formats (synchronous). */
  plan(options?: NativePlanOptions): NativeMemoryPlan;
  /** Frees the model now instead of at garbage collection. */
  close(): void;
}

export interface NativeEngineHandleClass {
  new (): NativeEngineHandle;
  probeBackends(): NativeBackendReport;
  /** Writes a synthetic model as a GGUF file (atomically: temp file + rename); resolves to its size in bytes. */
  synth(spec: NativeSynthSpec, out: string): Promise<number>;
  /** The memory plan of a GGUF file that is not loaded: reads its header only (synchronous). */
  planMemory(path: string, options?: NativePlanMemoryOptions): NativeMemoryPlan;
  /** The memory plan of a model known only by its shape, as planMemory would plan a file of those tensors. */
  planShape(shape: NativeModelShape, options?: NativePlanMemoryOptions): NativeMemoryPlan;
  /** The weight and KV-cache formats the engine knows, aliases included. */
  formats(): NativeFormatList;
}

/** What nvmlOpen found: NVML loaded with dlopen, or why it could not be used. */
export interface NvmlOpenResult {
  available: boolean;
  /** Why NVML is not available, in words ("no NVIDIA driver found: ..."); "" when it is. */
  reason: string;
  /** The file loaded (resolved path); null when none was. */
  library: string | null;
  driver: string | null;
  gpus: number;
  /** Optional NVML entry points this library lacks; the readings that need them are null. */
  missing: string[];
}

/** A process using the GPU, this one included. */
export interface GpuProcess {
  pid: number;
  /** MiB; null where the driver cannot say. */
  used_mb: number | null;
  kind: 'compute' | 'graphics';
}

/**
 * One reading of a GPU's sensors (NVML's snake_case names). A reading the GPU or driver does not
 * offer, or a sensor that failed this time, is null: never a made-up 0.
 */
export interface GpuSample {
  index: number;
  name: string;
  uuid: string;
  /** Watts: instantaneous where the GPU offers it (NVML_FI_DEV_POWER_INSTANT), else the averaged reading. */
  power_w: number | null;
  /** nvmlDeviceGetPowerUsage: a 1 s average on Ampere and newer, instantaneous before. */
  power_avg_w: number | null;
  /** Total energy counter since the driver loaded, millijoules. */
  energy_mj: number | null;
  power_limit_w: number | null;
  power_limit_default_w: number | null;
  power_limit_min_w: number | null;
  power_limit_max_w: number | null;
  /** The limit in force: the lowest of every limiter (ours, the driver's, the board's). */
  power_limit_enforced_w: number | null;
  temp_c: number | null;
  /** Hardware slowdown starts here. */
  temp_slowdown_c: number | null;
  temp_shutdown_c: number | null;
  /** May be throttled below base clock from here. */
  temp_max_gpu_c: number | null;
  /** Per fan, percent; [] when the GPU has no fan sensor. Without nvmlDeviceGetFanSpeed_v2 only fan 0 is read. */
  fans_pct: number[];
  sm_clock_mhz: number | null;
  mem_clock_mhz: number | null;
  /** MiB. */
  mem_used_mb: number | null;
  mem_total_mb: number | null;
  util_gpu_pct: number | null;
  util_mem_pct: number | null;
  /**
   * Why clocks are held down: "idle", "app-clocks", "power-cap", "hw-slowdown", "sync-boost",
   * "sw-thermal", "hw-thermal", "power-brake", "display-clocks".
   */
  throttle: string[];
  /** Compute processes, then graphics ones (a game); a process using both is listed once. */
  processes: GpuProcess[];
  /** What the GPU and this NVML offer; the rights to set are known only by trying (a set throws "no permission"). */
  caps: { read_power: boolean; set_power_limit: boolean; set_fans: boolean };
}

export interface NativeAddon {
  readonly abiVersion: number;
  readonly EngineHandle: NativeEngineHandleClass;
  /**
   * Loads NVML with dlopen (libraryPath, else $KEYMATE_NVML_LIB, else libnvidia-ml.so.1) and
   * initialises it; a second call closes the first. Never throws for a missing driver: available is false and reason says why.
   */
  nvmlOpen(libraryPath?: string): NvmlOpenResult;
  /** One reading of GPU `index`; throws a one-line Error when NVML is not open or the index does not exist. */
  nvmlSample(index: number): GpuSample;
  /** Watts within [power_limit_min_w, power_limit_max_w]; throws "... no permission (run as root ...)" without the rights. */
  nvmlSetPowerLimit(index: number, watts: number): void;
  /** Puts a fan under manual control (the driver stops regulating it until nvmlRestoreFan). */
  nvmlSetFanSpeed(index: number, fan: number, pct: number): void;
  /** Gives a fan back to the driver's automatic policy. */
  nvmlRestoreFan(index: number, fan: number): void;
  /** nvmlShutdown and unload; a no-op when not open. */
  nvmlClose(): void;
}
