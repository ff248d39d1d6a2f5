// The model library as the UI sees it: the GGUFs in the data folder's
// models/, the downloads that fill it, and the recommended models with
// whether each fits this machine in each weight format.
//
// For models-ui (published by models-host; requests/events in messages.ts):
//   models.list {}                             -> { models: ModelEntry[], downloads: DownloadState[] }
//                                                 (every model the UI can load: the command line's and the
//                                                  settings' when outside the library, then the library's)
//   models.import {path}                       -> ModelLibraryEntry   (rejects with one line: not a GGUF, truncated,
//                                                                      name taken, not enough space)
//   models.download.start {url, sha256?, name?} -> DownloadState       (progress follows as 'models.download' events)
//   models.download.pause {id} / .resume {id} / .cancel {id} -> DownloadState
//   models.recommended {}                      -> RecommendedList     (models + the memory judged against + network)
//   event 'models.download'                    -> DownloadState, at most ~10 per second per download, and on
//                                                 every change of state
// A download's `state` is the discriminant: queued | running | paused |
// retrying (attempt, max_attempts, next_ms, last_error) | verifying | done
// (path, sha256) | failed (error, offline) | cancelled. After a host restart,
// unfinished downloads come back as `paused` (resume continues them).
// Offline: RecommendedList.network says whether downloads can start (and
// why not, in words); a download that fails because there is no network says
// offline: true. Import works offline. Sizes are bytes; times are ms.
import { z } from 'zod';

/** Lowercase hex SHA-256. */
export const Sha256Hex = z.string().regex(/^[0-9a-f]{64}$/, 'a SHA-256 is 64 lowercase hex digits');

/** What the engine read from a GGUF's header. */
export const ModelFacts = z.strictObject({
  architecture: z.string(),
  parameters: z.number().int().nonnegative(),
  /** Tensor type name ("q8_0") -> number of tensors of that type. */
  weight_types: z.record(z.string(), z.number().int().nonnegative()),
  context_length: z.number().int().nonnegative(),
  /** Whether the GGUF carries tokenizer.chat_template. */
  chat_template: z.boolean(),
  layers: z.number().int().nonnegative(),
  dim: z.number().int().nonnegative(),
  heads: z.number().int().nonnegative(),
  kv_heads: z.number().int().nonnegative(),
  vocab: z.number().int().nonnegative(),
});
export type ModelFacts = z.infer<typeof ModelFacts>;

export const LIBRARY_ORIGINS = ['imported', 'downloaded', 'found'] as const;

export const ModelLibraryEntry = z.strictObject({
  path: z.string(),
  /** The file name without .gguf. */
  name: z.string(),
  size_bytes: z.number().int().nonnegative(),
  /** imported from disk, downloaded by URL, or found in the folder (put there by hand). */
  origin: z.enum(LIBRARY_ORIGINS),
  /** The file imported or the URL downloaded; null when found. */
  source: z.string().nullable(),
  /** Known when it was verified on download or hashed on import. */
  sha256: Sha256Hex.nullable(),
  /** When it entered the library: Unix epoch ms; null when found. */
  added_ms: z.number().nullable(),
  /** Null when the engine could not read the file: `problem` says why. */
  facts: ModelFacts.nullable(),
  problem: z.string().nullable(),
});
export type ModelLibraryEntry = z.infer<typeof ModelLibraryEntry>;

const downloadBase = {
  id: z.string().min(1),
  url: z.string(),
  /** The library name: the file becomes models/<name>.gguf. */
  name: z.string(),
  /** The finished file's path (it exists only once the download is done). */
  file: z.string(),
  bytes_done: z.number().int().nonnegative(),
  /** Null while the server has not said (no Content-Length). */
  bytes_total: z.number().int().nonnegative().nullable(),
  /** Bytes per second over the last few seconds; 0 when not running. */
  speed_bps: z.number().nonnegative(),
  sha256_expected: Sha256Hex.nullable(),
  /** Something the user should know that is not an error ("the server ignored Range: restarted from zero"). */
  note: z.string().nullable(),
};

export const DOWNLOAD_STATES = ['queued', 'running', 'paused', 'retrying', 'verifying', 'done', 'failed', 'cancelled'] as const;

export const DownloadState = z.discriminatedUnion('state', [
  z.strictObject({ ...downloadBase, state: z.literal('queued') }),
  z.strictObject({ ...downloadBase, state: z.literal('running') }),
  z.strictObject({ ...downloadBase, state: z.literal('paused') }),
  z.strictObject({
    ...downloadBase,
    state: z.literal('retrying'),
    /** The attempt about to start (2 = the first retry). */
    attempt: z.number().int().min(2),
    max_attempts: z.number().int().min(1),
    /** Milliseconds until it starts. */
    next_ms: z.number().nonnegative(),
    last_error: z.string(),
  }),
  z.strictObject({ ...downloadBase, state: z.literal('verifying') }),
  z.strictObject({ ...downloadBase, state: z.literal('done'), path: z.string(), sha256: Sha256Hex }),
  z.strictObject({
    ...downloadBase,
    state: z.literal('failed'),
    error: z.string(),
    /** The machine has no network (import still works). */
    offline: z.boolean(),
  }),
  z.strictObject({ ...downloadBase, state: z.literal('cancelled') }),
]);
export type DownloadState = z.infer<typeof DownloadState>;
export type DownloadStateName = DownloadState['state'];

/** Whether a model in one weight format fits the memory it would run in. */
export const FormatFit = z.strictObject({
  fits: z.boolean(),
  /** Weights + KV cache (for `context` tokens) + activations + runtime reserve, MiB. */
  need_mb: z.number().int().nonnegative(),
  have_mb: z.number().int().nonnegative(),
  where: z.enum(['gpu', 'cpu']),
});
export type FormatFit = z.infer<typeof FormatFit>;

export const ModelShape = z.strictObject({
  layers: z.number().int().positive(),
  dim: z.number().int().positive(),
  heads: z.number().int().positive(),
  kv_heads: z.number().int().positive(),
  /** Attention head size, given only where it is not dim / heads (Qwen3: 128, Gemma 3: 256). */
  head_dim: z.number().int().positive().optional(),
  ffn: z.number().int().positive(),
  vocab: z.number().int().positive(),
  context_length: z.number().int().positive(),
});
export type ModelShape = z.infer<typeof ModelShape>;

export const RecommendedModel = z.strictObject({
  id: z.string(),
  title: z.string(),
  /** A Hugging Face resolve link: models.download.start takes it as is. */
  url: z.string(),
  /** The name it gets in the library (models/<name>.gguf). */
  name: z.string(),
  /** Null unless known for certain: the download then only checks the header and the length. */
  sha256: Sha256Hex.nullable(),
  size_bytes: z.number().int().positive(),
  /** Parameters, as a number (494_032_768), for display as "0.5B". */
  params: z.number().int().positive(),
  /** The file's quantization as published ("Q8_0", "Q4_K_M"). */
  quant: z.string(),
  license: z.string(),
  shape: ModelShape,
  /** Weight format name (engine's list: "native", "f16", "fp8", ...) -> fit. */
  fits: z.record(z.string(), FormatFit),
  /** Already in the library under `name`. */
  in_library: z.boolean(),
});
export type RecommendedModel = z.infer<typeof RecommendedModel>;

export const RecommendedList = z.strictObject({
  models: z.array(RecommendedModel),
  /** What the fits were judged against. */
  memory: z.strictObject({
    where: z.enum(['gpu', 'cpu']),
    /** "NVIDIA GeForce RTX 4060 Laptop GPU" or "system memory". */
    device: z.string(),
    have_mb: z.number().int().nonnegative(),
    /** KV cache tokens planned for. */
    context: z.number().int().positive(),
    /** KV cache format planned for. */
    kv: z.string(),
  }),
  network: z.strictObject({
    offline: z.boolean(),
    /** Why downloads cannot start, in words; null when online. */
    reason: z.string().nullable(),
  }),
});
export type RecommendedList = z.infer<typeof RecommendedList>;

/**
 * Where a model the UI can choose came from: into the library (imported,
 * downloaded, found in models/), or from outside it (the settings' model, the
 * command line's --model).
 */
export const MODEL_ORIGINS = [...LIBRARY_ORIGINS, 'settings', 'command-line'] as const;

/**
 * One model the UI can load. A model outside the library has the same facts
 * (read by the engine) and null source, sha256 and added_ms.
 */
export const ModelEntry = ModelLibraryEntry.extend({
  origin: z.enum(MODEL_ORIGINS),
  /** The model presses run: the command line's for this run, else the settings' choice. */
  selected: z.boolean(),
});
export type ModelEntry = z.infer<typeof ModelEntry>;

/** The models.list answer: every model the UI can load, and the downloads filling the library. */
export const ModelListing = z.strictObject({
  models: z.array(ModelEntry),
  downloads: z.array(DownloadState),
});
export type ModelListing = z.infer<typeof ModelListing>;

/** What models/ holds and the downloads filling it (`keymate models list --json`; the host's ModelLibrary is the folder itself). */
export const ModelLibraryListing = z.strictObject({
  models: z.array(ModelLibraryEntry),
  downloads: z.array(DownloadState),
});
export type ModelLibraryListing = z.infer<typeof ModelLibraryListing>;

export const DownloadId = z.strictObject({ id: z.string().min(1).max(200) });

export const DownloadStart = z.strictObject({
  url: z.string().min(1).max(4096),
  /** Either case; answered lowercase. */
  sha256: z
    .string()
    .regex(/^[0-9a-fA-F]{64}$/, 'a SHA-256 is 64 hex digits')
    .transform((s) => s.toLowerCase())
    .optional(),
  /** The library name; default: from the URL's file name. */
  name: z.string().min(1).max(200).optional(),
});
