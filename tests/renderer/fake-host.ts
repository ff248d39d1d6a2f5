// A HostApi for the renderer's tests that holds both ends to the contract:
// every request the store sends is validated as the real host would (a bad
// payload fails the test), every answer and event is validated as the real
// transports do, and unanswered requests fail loudly. Plus fixtures: valid
// instances of the contract's shapes to vary in each test.
import {
  CONTRACT_VERSION,
  DEFAULT_SETTINGS,
  checkEvent,
  checkRequest,
  checkResponse,
  type ApiServerStatus,
  type AppState,
  type DeviceStatus,
  type DownloadState,
  type EngineStatus,
  type EventName,
  type EventOf,
  type HostApi,
  type ModelEntry,
  type ModelLibraryEntry,
  type PerformanceRecord,
  type RecommendedList,
  type RemoteStatus,
  type ReplyTimings,
  type RequestName,
  type RequestOf,
  type ResponseOf,
} from '../../common/contract';

type Handler<N extends RequestName> = (payload: RequestOf<N>) => ResponseOf<N> | Promise<ResponseOf<N>>;

export class FakeHost implements HostApi {
  readonly sent: { name: RequestName; payload: unknown }[] = [];
  private readonly handlers = new Map<RequestName, Handler<never>>();
  private readonly listeners = new Map<EventName, Set<(p: never) => void>>();

  handle<N extends RequestName>(name: N, handler: Handler<N>): this {
    this.handlers.set(name, handler);
    return this;
  }

  async request<N extends RequestName>(name: N, payload: RequestOf<N>): Promise<ResponseOf<N>> {
    checkRequest(name, payload);
    this.sent.push({ name, payload });
    const handler = this.handlers.get(name) as Handler<N> | undefined;
    if (handler === undefined) throw new Error(`fake host: no handler for '${name}'`);
    return checkResponse(name, await handler(payload));
  }

  on<E extends EventName>(event: E, listener: (payload: EventOf<E>) => void): () => void {
    let set = this.listeners.get(event);
    if (set === undefined) {
      set = new Set();
      this.listeners.set(event, set);
    }
    set.add(listener);
    return () => set.delete(listener);
  }

  emit<E extends EventName>(event: E, payload: EventOf<E>): void {
    const checked = checkEvent(event, payload);
    for (const l of this.listeners.get(event) ?? []) (l as (p: EventOf<E>) => void)(checked);
  }

  listenerCount(): number {
    let n = 0;
    for (const set of this.listeners.values()) n += set.size;
    return n;
  }

  names(): RequestName[] {
    return this.sent.map((s) => s.name);
  }
}

export function timings(over: Partial<ReplyTimings> = {}): ReplyTimings {
  return {
    ttft_ms: 12.5,
    prefill_ms: 10,
    decode_tok_s: 250,
    prompt_tokens: 30,
    cached_tokens: 24,
    tokens: 16,
    host_ms: 0.4,
    link_ms: null,
    e2e_ms: 13.1,
    stages_ms: null,
    ...over,
  };
}

export function record(pressId: string, tMs: number, over: Partial<ReplyTimings> = {}): PerformanceRecord {
  return { press_id: pressId, t_ms: tMs, source: 'keyboard', model: 'stories260K', backend: 'cpu', stop: 'length', timings: timings(over) };
}

export function deviceStatus(over: Partial<DeviceStatus> = {}): DeviceStatus {
  return {
    state: 'connected',
    connected: true,
    port: '/tmp/kbd',
    reason: null,
    device: {
      device_id: 'sim-0001',
      firmware: '1.2.3',
      protocol: 1,
      capabilities: { key: true, gpio: true, text: true, led: true, display: false },
    },
    attempt: 0,
    retry_in_ms: null,
    frames: 10,
    frame_errors: { total: 0, by_kind: {} },
    retransmits: 0,
    clock_rtt_ms: 0.2,
    ...over,
  };
}

export function engineStatus(over: Partial<EngineStatus> = {}): EngineStatus {
  return { state: 'none', model: null, backend: null, message: 'no model chosen', ...over };
}

/** The remote engine off, as the host reports it while the local engine answers. */
export function remoteStatus(over: Partial<RemoteStatus> = {}): RemoteStatus {
  return { state: 'off', url: '', model: null, models: [], key: 'none', message: null, ...over };
}

/** The app's API off. */
export function apiStatus(over: Partial<ApiServerStatus> = {}): ApiServerStatus {
  return { state: 'off', api_base: null, key: 'km-test-key', key_file: '/home/.config/Keymate/api-key', message: null, ...over };
}

export function appState(over: Partial<AppState> = {}): AppState {
  return {
    contract: CONTRACT_VERSION,
    version: '0.1.0',
    transport: 'websocket',
    session: { state: 'idle', press_id: null, typed: '', message: null },
    key: { down: false, source: null, t_ms: 0 },
    reply: null,
    conversation: { id: 'c0-1', title: '', created_ms: 0, updated_ms: 0, turns: [], context_from: 0 },
    engine: engineStatus(),
    remote: remoteStatus(),
    api: apiStatus(),
    device: deviceStatus(),
    settings: DEFAULT_SETTINGS,
    telemetry: { available: false, t_ms: 1, reason: 'NVML not found: no NVIDIA driver' },
    notices: [],
    ...over,
  };
}

/** A download in state `running` unless `over` says otherwise (fields of other states go in `over` too). */
export function download(over: Record<string, unknown> = {}): DownloadState {
  return {
    id: 'd1',
    url: 'https://huggingface.co/a/b/resolve/main/tiny.gguf',
    name: 'tiny',
    file: '/home/.config/Keymate/models/tiny.gguf',
    bytes_done: 0,
    bytes_total: 1000,
    speed_bps: 0,
    sha256_expected: null,
    note: null,
    state: 'running',
    ...over,
  };
}

export function libraryEntry(name: string, over: Partial<ModelLibraryEntry> = {}): ModelLibraryEntry {
  return {
    path: `/home/.config/Keymate/models/${name}.gguf`,
    name,
    size_bytes: 1_185_376,
    origin: 'imported',
    source: `/elsewhere/${name}.gguf`,
    sha256: null,
    added_ms: 1,
    facts: {
      architecture: 'llama',
      parameters: 260_000,
      weight_types: { f32: 57 },
      context_length: 512,
      chat_template: false,
      layers: 5,
      dim: 64,
      heads: 8,
      kv_heads: 4,
      vocab: 512,
    },
    problem: null,
    ...over,
  };
}

/** A model as models.list answers it: a library entry unless `over` says otherwise. */
export function modelEntry(name: string, over: Partial<ModelEntry> = {}): ModelEntry {
  return { ...libraryEntry(name), selected: false, ...over };
}

export function recommendedList(over: Partial<RecommendedList> = {}): RecommendedList {
  const shape = { layers: 30, dim: 576, heads: 9, kv_heads: 3, ffn: 1536, vocab: 49152, context_length: 8192 };
  return {
    models: [
      {
        id: 'smollm2-135m-instruct-q8_0',
        title: 'SmolLM2 135M Instruct (Q8_0)',
        url: 'https://huggingface.co/HuggingFaceTB/SmolLM2-135M-Instruct-GGUF/resolve/main/smollm2-135m-instruct-q8_0.gguf',
        name: 'smollm2-135m-instruct-q8_0',
        sha256: null,
        size_bytes: 145_000_000,
        params: 134_515_008,
        quant: 'Q8_0',
        license: 'Apache-2.0',
        shape,
        fits: { native: { fits: true, need_mb: 300, have_mb: 8000, where: 'gpu' }, f16: { fits: true, need_mb: 500, have_mb: 8000, where: 'gpu' } },
        in_library: false,
      },
    ],
    memory: { where: 'gpu', device: 'NVIDIA GeForce RTX 4060 Laptop GPU', have_mb: 8000, context: 2048, kv: 'f16' },
    network: { offline: false, reason: null },
    ...over,
  };
}

/** Lets pending promise callbacks run. */
export const tick = (): Promise<void> => new Promise((r) => setImmediate(r));
