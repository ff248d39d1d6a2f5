// The two maps that ARE the contract: request name -> {request, response}
// schema, and event name -> schema. Everything else derives from them: the
// types (RequestOf, ResponseOf, EventOf), the HostApi both transports
// implement, the host's handler table (a missing handler is a type error), the
// preload's channels, and the validation at both ends.
import { z } from 'zod';

import { CardExport, CharacterSummary } from './character';
import { Conversation, ConversationExport, ConversationId, ConversationSummary, ConversationTurn, EXPORT_FORMATS } from './conversation';
import { DeviceStatus } from './device';
import { BenchSummary, EngineStatus } from './engine';
import { ContractError, contractError, unknownName } from './errors';
import { Notice } from './notice';
import { DownloadId, DownloadStart, DownloadState, FormatFit, ModelLibraryEntry, ModelListing, RecommendedList } from './models';
import { HistoryEntry, PerformanceRecord } from './records';
import { KeyState, PressId, ReplyDone, ReplyError, ReplySnapshot, ReplyStart, ReplyToken, SessionStatus } from './session';
import { ApiServerStatus, RemoteStatus } from './remote';
import { Settings, SettingsPatch } from './settings';
import { TelemetrySample } from './telemetry';

/** Bumped with every change to the maps or the shapes they use. */
export const CONTRACT_VERSION = 6;

const empty = z.strictObject({});

/** Everything the UI needs to draw itself after it (re)connects. */
export const AppState = z.strictObject({
  contract: z.literal(CONTRACT_VERSION),
  /** The app's version (package.json). */
  version: z.string(),
  /** How this UI reaches the host. */
  transport: z.enum(['ipc', 'websocket']),
  session: SessionStatus,
  key: KeyState,
  reply: ReplySnapshot.nullable(),
  /** The conversation presses continue. */
  conversation: Conversation,
  engine: EngineStatus,
  /** The remote engine, when one answers instead of the local engine. */
  remote: RemoteStatus,
  /** The app's OpenAI-compatible API. */
  api: ApiServerStatus,
  device: DeviceStatus,
  settings: Settings,
  telemetry: TelemetrySample,
  /** Notices since the host started (a corrupt settings file found at start, ...), oldest first. */
  notices: z.array(Notice),
});
export type AppState = z.infer<typeof AppState>;

const listQuery = z.strictObject({
  /** At most this many, newest first (default 100). */
  limit: z.number().int().min(1).max(10_000).optional(),
});

export const requests = {
  /** The whole state, for a UI that has just connected. */
  'state.get': { request: empty, response: AppState },
  /** The host's clock now (common/clock.ts): a UI sets its own against it to time what it shows against the host's stamps. */
  'clock': { request: empty, response: z.strictObject({ t_ms: z.number() }) },
  /** The on-screen AI key (or the global shortcut) went down / up: the same session as the keyboard's key. */
  'key.press': { request: z.strictObject({ source: z.enum(['screen', 'shortcut']) }), response: SessionStatus },
  'key.release': { request: z.strictObject({ source: z.enum(['screen', 'shortcut']) }), response: SessionStatus },
  /** Sends a prompt now, as a key press with typed text would; the reply streams as reply.* events. */
  'generate': {
    request: z.strictObject({ prompt: z.string().min(1).max(8000) }),
    response: z.strictObject({ press_id: PressId }),
  },
  /** Stops the reply in progress (its reply.done says stop "cancelled"); false when there was none. */
  'cancel': { request: empty, response: z.strictObject({ cancelled: z.boolean() }) },
  'settings.get': { request: empty, response: Settings },
  /** Applies a partial change and saves it (atomically); answers the settings now in force. */
  'settings.set': { request: z.strictObject({ patch: SettingsPatch }), response: Settings },
  /** The conversation presses continue now. */
  'conversation.get': { request: empty, response: Conversation },
  /** Starts a new, empty conversation and makes it the current one (refused while a reply runs). */
  'conversation.new': { request: z.strictObject({ character_id: z.string().min(1).max(64).optional() }), response: Conversation },
  /** Makes a saved conversation the current one: the next press continues it (refused while a reply runs). */
  'conversation.open': { request: z.strictObject({ id: ConversationId }), response: Conversation },
  /** Saved conversations, most recently continued first; `query` keeps those whose title or turns contain it (any case). */
  'conversations.list': {
    request: z.strictObject({ limit: z.number().int().min(1).max(10_000).optional(), query: z.string().max(200).optional() }),
    response: z.strictObject({ conversations: z.array(ConversationSummary) }),
  },
  'conversation.rename': { request: z.strictObject({ id: ConversationId, title: z.string().trim().min(1).max(200) }), response: ConversationSummary },
  /** Deletes a conversation; it can be restored (undo) until the host next starts. Deleting the current one makes the newest other current. */
  'conversation.delete': { request: z.strictObject({ id: ConversationId }), response: ConversationSummary },
  'conversation.restore': { request: z.strictObject({ id: ConversationId }), response: ConversationSummary },
  'conversation.export': { request: z.strictObject({ id: ConversationId, format: z.enum(EXPORT_FORMATS) }), response: ConversationExport },
  /** A new conversation holding the first `turns` turns of another, made current: its shared start is still in the cache. */
  'conversation.branch': { request: z.strictObject({ id: ConversationId, turns: z.number().int().min(0) }), response: Conversation },
  /** Writes the current conversation's last reply again (a swipe): the reply streams as reply.* events, and the turn keeps every version. */
  'conversation.regenerate': { request: empty, response: z.strictObject({ press_id: PressId }) },
  /** Shows another version of the last reply (and the model reads that one from then on). */
  'conversation.choose': { request: z.strictObject({ version: z.number().int().min(0) }), response: Conversation },
  /** The imported characters, by name. */
  'characters.list': { request: empty, response: z.strictObject({ characters: z.array(CharacterSummary) }) },
  /** Imports a character card file (JSON, or a PNG carrying one; V2 or V3) the host reads from this path. */
  'characters.import': { request: z.strictObject({ path: z.string().min(1).max(4096) }), response: CharacterSummary },
  /** The card as it was imported (JSON byte for byte), or in its picture (PNG). */
  'characters.export': { request: z.strictObject({ id: z.string().min(1).max(64), format: z.enum(['json', 'png']) }), response: CardExport },
  'characters.delete': { request: z.strictObject({ id: z.string().min(1).max(64) }), response: z.strictObject({ deleted: z.boolean() }) },
  'history.list': { request: listQuery, response: z.strictObject({ entries: z.array(HistoryEntry) }) },
  'history.clear': { request: empty, response: z.strictObject({ removed: z.number().int().nonnegative() }) },
  'performance.list': { request: listQuery, response: z.strictObject({ records: z.array(PerformanceRecord) }) },
  /** Measures the loaded model (keymate bench): decode speed and the bound the hardware allows. */
  'performance.bench': {
    request: z.strictObject({
      prompt_tokens: z.number().int().min(1).max(4096).optional(),
      gen_tokens: z.number().int().min(1).max(1024).optional(),
    }),
    response: BenchSummary,
  },
  /** Recent telemetry samples, oldest first, to fill the charts on connect. */
  'telemetry.recent': {
    request: z.strictObject({ limit: z.number().int().min(1).max(3600).optional() }),
    response: z.strictObject({ samples: z.array(TelemetrySample) }),
  },
  /** Every model the UI can load (the library's, the settings', the command line's) with what the engine read from each, and the downloads in progress or paused. */
  'models.list': { request: empty, response: ModelListing },
  /** Loads a model (and remembers it in the settings); answers once it is loaded or has failed. */
  'models.select': { request: z.strictObject({ path: z.string().min(1).max(4096) }), response: EngineStatus },
  /** Copies a GGUF into models/ after the engine has read its header (atomically: temp file, fsync, rename). */
  'models.import': { request: z.strictObject({ path: z.string().min(1).max(4096) }), response: ModelLibraryEntry },
  /** Starts a download into models/; progress follows as 'models.download' events. */
  'models.download.start': { request: DownloadStart, response: DownloadState },
  'models.download.pause': { request: DownloadId, response: DownloadState },
  'models.download.resume': { request: DownloadId, response: DownloadState },
  /** Stops a download and removes its partial file. */
  'models.download.cancel': { request: DownloadId, response: DownloadState },
  /** Small-to-7B instruct models, with whether each fits this machine in each weight format. */
  'models.recommended': { request: empty, response: RecommendedList },
  /** The memory plan of one GGUF (its header only): per weight format, whether it fits, judged as for the recommended models. */
  'models.plan': {
    request: z.strictObject({ path: z.string().min(1).max(4096) }),
    response: z.strictObject({ path: z.string(), fits: z.record(z.string(), FormatFit), memory: RecommendedList.shape.memory }),
  },
  /** The desktop app's open-file dialog for a GGUF (the Electron shell answers it); null when the user cancels. Over the WebSocket there is no dialog: it rejects, and the user types the path. */
  'models.pick_file': { request: empty, response: z.strictObject({ path: z.string().min(1).max(4096).nullable() }) },
  /** Asks the remote server again what it serves (after starting it, or to refresh the list). */
  'remote.check': { request: empty, response: RemoteStatus },
  /** Saves the key sent to the remote server (in the data folder, not in the settings); '' removes it. KEYMATE_REMOTE_API_KEY, when set, wins. */
  'remote.key.set': { request: z.strictObject({ key: z.string().max(4096) }), response: RemoteStatus },
  'api.status': { request: empty, response: ApiServerStatus },
  /** Replaces the API's key with a new one: clients need the new one. */
  'api.key.renew': { request: empty, response: ApiServerStatus },
} as const;

export const events = {
  'session': SessionStatus,
  'key': KeyState,
  'reply.start': ReplyStart,
  'reply.token': ReplyToken,
  'reply.done': ReplyDone,
  'reply.error': ReplyError,
  /** A turn was added to the current conversation, once it is on disk. */
  'conversation.turn': ConversationTurn,
  /** The current conversation changed otherwise (a new one, another opened, turns dropped or withdrawn): all of it. */
  'conversation': Conversation,
  'engine': EngineStatus,
  'remote': RemoteStatus,
  'api': ApiServerStatus,
  'device': DeviceStatus,
  'settings': Settings,
  'performance': PerformanceRecord,
  'history': HistoryEntry,
  'telemetry': TelemetrySample,
  'notice': Notice,
  'models.download': DownloadState,
} as const;

export type RequestName = keyof typeof requests;
export type EventName = keyof typeof events;
export type RequestOf<N extends RequestName> = z.input<(typeof requests)[N]['request']>;
export type ResponseOf<N extends RequestName> = z.output<(typeof requests)[N]['response']>;
export type EventOf<E extends EventName> = z.output<(typeof events)[E]>;

export const REQUEST_NAMES = Object.keys(requests) as RequestName[];
export const EVENT_NAMES = Object.keys(events) as EventName[];

/** What the UI holds: the same on Electron IPC and on the WebSocket. */
export interface HostApi {
  /** Rejects with the host's one-line error, or a ContractError when either side breaks the contract. */
  request<N extends RequestName>(name: N, payload: RequestOf<N>): Promise<ResponseOf<N>>;
  /** Returns the function that removes the listener. */
  on<E extends EventName>(event: E, listener: (payload: EventOf<E>) => void): () => void;
}

/** The host's side: one handler per request, so a missing one does not compile. */
export type RequestHandlers<Context = void> = {
  [N in RequestName]: (payload: ResponseIn<N>, context: Context) => Promise<ResponseOf<N>> | ResponseOf<N>;
};
type ResponseIn<N extends RequestName> = z.output<(typeof requests)[N]['request']>;

export function isRequestName(name: unknown): name is RequestName {
  return typeof name === 'string' && Object.hasOwn(requests, name);
}

export function isEventName(name: unknown): name is EventName {
  return typeof name === 'string' && Object.hasOwn(events, name);
}

/** Validates a request (at the sender before it goes, at the host when it arrives). */
export function parseRequest(name: unknown, payload: unknown): { name: RequestName; payload: unknown } {
  if (!isRequestName(name)) throw unknownName('request', name);
  const r = requests[name].request.safeParse(payload);
  if (!r.success) throw contractError('request', name, r.error, payload);
  return { name, payload: r.data };
}

/** Validates a response (at the host before it goes, at the UI when it arrives). */
export function parseResponse(name: unknown, payload: unknown): { name: RequestName; payload: unknown } {
  if (!isRequestName(name)) throw unknownName('response', name);
  const r = (requests[name].response as z.ZodType).safeParse(payload);
  if (!r.success) throw contractError('response', name, r.error, payload);
  return { name, payload: r.data };
}

/** Validates an event (at the host before it is sent, at the UI when it arrives). */
export function parseEvent(name: unknown, payload: unknown): { name: EventName; payload: unknown } {
  if (!isEventName(name)) throw unknownName('event', name);
  const r = (events[name] as z.ZodType).safeParse(payload);
  if (!r.success) throw contractError('event', name, r.error, payload);
  return { name, payload: r.data };
}

/** Typed forms of the same checks, for code that knows the name statically. */
export function checkRequest<N extends RequestName>(name: N, payload: unknown): ResponseIn<N> {
  return parseRequest(name, payload).payload as ResponseIn<N>;
}
export function checkResponse<N extends RequestName>(name: N, payload: unknown): ResponseOf<N> {
  return parseResponse(name, payload).payload as ResponseOf<N>;
}
export function checkEvent<E extends EventName>(name: E, payload: unknown): EventOf<E> {
  return parseEvent(name, payload).payload as EventOf<E>;
}

export { ContractError };
