// The user's settings: one schema, the current version. The file on disk
// carries a version number and the host migrates older files up to this
// shape (electron/host/storage/); the UI only ever sees this one.
// Version 2 added `thermal`, the thermal and fan policy; version 3 `thinking`;
// version 4 `remote` and `api`.
import { z } from 'zod';

import { BACKENDS, KV_FORMATS, WEIGHT_FORMATS } from '../formats';
import { ApiSettings, DEFAULT_API, DEFAULT_REMOTE, RemoteSettings } from './remote';
import { DEFAULT_THERMAL, ThermalSettings } from './thermal';

export const SETTINGS_VERSION = 4;

export const Settings = z.strictObject({
  /** The GGUF to load at start; null = none chosen yet. */
  model: z.string().min(1).nullable(),
  backend: z.enum(BACKENDS),
  weights: z.enum(WEIGHT_FORMATS),
  kv: z.enum(KV_FORMATS),
  /** CPU threads; 0 = one per physical core but one, left for the app (engine-service.ts appThreads). */
  threads: z.number().int().min(0).max(256),
  /** The keyboard's serial port; null = find it by USB id. */
  serial_port: z.string().min(1).nullable(),
  /** The persona (system prompt) every press starts with; its KV is computed once and kept. */
  persona: z.string().max(8000),
  /** What a press asks when nothing was typed while the key was held. */
  default_prompt: z.string().max(8000),
  max_tokens: z.number().int().min(1).max(4096),
  /** 0 = greedy. */
  temperature: z.number().min(0).max(2),
  top_k: z.number().int().min(0).max(1000),
  top_p: z.number().gt(0).max(1),
  seed: z.number().int().min(0).max(0xffffffff),
  /** Measure the per-stage breakdown (adds a barrier per stage). */
  profile: z.boolean(),
  /** The global shortcut for the AI key (Electron accelerator syntax); empty = none. */
  shortcut: z.string().max(100),
  /** The thermal and fan policy (contract/thermal.ts); a patch replaces it whole. */
  thermal: ThermalSettings,
  /**
   * A reasoning model thinks before it answers (the template's enable_thinking);
   * off, it answers at once. Only models whose template reads it (ModelInfo.thinking_switch) are affected.
   */
  thinking: z.boolean(),
  /** An OpenAI-compatible server answering instead of the local engine (contract/remote.ts); a patch replaces it whole. */
  remote: RemoteSettings,
  /** The app's own OpenAI-compatible API on loopback; a patch replaces it whole. */
  api: ApiSettings,
});
export type Settings = z.infer<typeof Settings>;

/** A change to some settings; unknown names are refused. */
export const SettingsPatch = Settings.partial();
export type SettingsPatch = z.infer<typeof SettingsPatch>;

export const DEFAULT_SETTINGS: Settings = {
  model: null,
  backend: 'auto',
  weights: 'native',
  kv: 'f16',
  threads: 0,
  serial_port: null,
  persona: 'You are Keymate, a helpful assistant built into a keyboard. Answer briefly.',
  default_prompt: 'Once upon a time',
  max_tokens: 128,
  temperature: 0,
  top_k: 40,
  top_p: 0.95,
  seed: 42,
  profile: false,
  shortcut: 'CommandOrControl+Shift+Space',
  thermal: DEFAULT_THERMAL,
  thinking: true,
  remote: DEFAULT_REMOTE,
  api: DEFAULT_API,
};
