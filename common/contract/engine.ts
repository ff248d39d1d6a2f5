// The engine as the UI sees it: what is loaded and on which backend (the
// models it can choose from are in models.ts). Field names follow the command line's JSON
// (DESIGN.md), snake_case.
import { z } from 'zod';

export const ModelInfo = z.strictObject({
  path: z.string(),
  name: z.string(),
  architecture: z.string(),
  parameters: z.number().int().nonnegative(),
  weight_bytes: z.number().int().nonnegative(),
  /** Tensor type name ("q8_0") -> number of tensors in the file. */
  tensor_types: z.record(z.string(), z.number().int().nonnegative()),
  context_length: z.number().int().nonnegative(),
  vocab: z.number().int().nonnegative(),
  layers: z.number().int().nonnegative(),
  dim: z.number().int().nonnegative(),
  heads: z.number().int().nonnegative(),
  kv_heads: z.number().int().nonnegative(),
  tokenizer: z.string(),
  /** Whether the GGUF carries tokenizer.chat_template (else the plain template is used). */
  chat_template: z.boolean(),
  /** Whether that template reads enable_thinking (Qwen3's, SmolLM3's): the Thinking setting applies to this model. */
  thinking_switch: z.boolean(),
});
export type ModelInfo = z.infer<typeof ModelInfo>;

export const BackendInfo = z.strictObject({
  name: z.string(),
  device: z.string(),
  /** KV cache capacity in tokens. */
  context: z.number().int().nonnegative(),
  weights: z.string(),
  kv: z.string(),
});
export type BackendInfo = z.infer<typeof BackendInfo>;

export const ENGINE_STATES = ['none', 'loading', 'ready', 'error'] as const;
export const EngineState = z.enum(ENGINE_STATES);

export const EngineStatus = z.strictObject({
  state: EngineState,
  model: ModelInfo.nullable(),
  backend: BackendInfo.nullable(),
  /** loading: what is being loaded; error: why it failed; none: why nothing is loaded. */
  message: z.string().nullable(),
});
export type EngineStatus = z.infer<typeof EngineStatus>;

/** A measurement of what the hardware allows (keymate bench on the loaded model). */
export const BenchSummary = z.strictObject({
  backend: z.string(),
  device: z.string(),
  prompt_tokens: z.number().int().nonnegative(),
  gen_tokens: z.number().int().nonnegative(),
  ttft_ms: z.strictObject({ min: z.number(), median: z.number(), p90: z.number() }),
  prefill_tok_s: z.number().nonnegative(),
  decode_tok_s: z.number().nonnegative(),
  decode_ms_per_token: z.number().nonnegative(),
  stages_ms: z.record(z.string(), z.number().nonnegative()),
  /** The memory-bandwidth bound for one decoded token: bytes read / measured bandwidth. */
  bound_ms: z.number().nonnegative(),
  bandwidth_gb_s: z.number().nonnegative(),
});
export type BenchSummary = z.infer<typeof BenchSummary>;
