// The OpenAI API both ways, as the UI sees it: a remote engine (an
// OpenAI-compatible server elsewhere: vLLM, SGLang, Ollama, llama.cpp's
// server, another Keymate) answering in place of the local one, and the
// app's own API on loopback. Their settings are in Settings.remote and
// Settings.api; these are their states.
import { z } from 'zod';

export const RemoteSettings = z.strictObject({
  /** On: presses and API requests go to the server at `url`; off: the local engine answers (the URL is kept). */
  enabled: z.boolean(),
  /** The server's OpenAI base URL, with its /v1 (http://gpu-box:8000/v1); '' = none given yet. */
  url: z.string().max(2048),
  /** The model to ask it for; '' = the first one it lists. */
  model: z.string().max(256),
});
export type RemoteSettings = z.infer<typeof RemoteSettings>;

export const ApiSettings = z.strictObject({
  /** The app answers OpenAI clients on 127.0.0.1:`port` (keymate serve always does, on its own port). */
  enabled: z.boolean(),
  port: z.number().int().min(1).max(65535),
  /** Also other machines on the network (every interface, any Host header); the key is required either way. Off: loopback only. */
  lan: z.boolean(),
});
export type ApiSettings = z.infer<typeof ApiSettings>;

export const REMOTE_STATES = ['off', 'checking', 'ready', 'error'] as const;

export const RemoteStatus = z.strictObject({
  /** off: the local engine answers; checking: asking the server what it serves; ready: it answered; error: see message. */
  state: z.enum(REMOTE_STATES),
  /** The base URL presses go to ('' when off). */
  url: z.string(),
  /** The model presses ask for: the chosen one, or the first the server lists; null until known. */
  model: z.string().nullable(),
  /** The models the server listed when last asked. */
  models: z.array(z.string()),
  /** Where the key sent to the server comes from: KEYMATE_REMOTE_API_KEY, the one saved from Settings, or none. */
  key: z.enum(['environment', 'saved', 'none']),
  /** error: why, in one line; otherwise null. */
  message: z.string().nullable(),
});
export type RemoteStatus = z.infer<typeof RemoteStatus>;

export const ApiServerStatus = z.strictObject({
  /** off: not enabled; listening: answering at api_base; error: it could not listen (message says why). */
  state: z.enum(['off', 'listening', 'error']),
  /** http://127.0.0.1:N/v1 while listening. */
  api_base: z.string().nullable(),
  /** What clients send as "Authorization: Bearer <key>". */
  key: z.string(),
  /** The file the key is kept in (the data folder's api-key). */
  key_file: z.string(),
  message: z.string().nullable(),
});
export type ApiServerStatus = z.infer<typeof ApiServerStatus>;

export const DEFAULT_REMOTE: RemoteSettings = { enabled: false, url: '', model: '' };
/** Next to Ollama's 11434 and clear of the ports other local servers take by default (LM Studio's 1234, llama.cpp's 8080). */
export const DEFAULT_API: ApiSettings = { enabled: false, port: 11435, lan: false };
