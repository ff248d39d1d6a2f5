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
  type AppState,
  type DeviceStatus,
  type EngineStatus,
  type EventName,
  type EventOf,
  type HostApi,
  type PerformanceRecord,
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
    ...over,
  };
}

export function engineStatus(over: Partial<EngineStatus> = {}): EngineStatus {
  return { state: 'none', model: null, backend: null, message: 'no model chosen', ...over };
}

export function appState(over: Partial<AppState> = {}): AppState {
  return {
    contract: CONTRACT_VERSION,
    version: '0.1.0',
    transport: 'websocket',
    session: { state: 'idle', press_id: null, typed: '', message: null },
    key: { down: false, source: null, t_ms: 0 },
    reply: null,
    engine: engineStatus(),
    device: deviceStatus(),
    settings: DEFAULT_SETTINGS,
    telemetry: { available: false, t_ms: 1, reason: 'NVML not found: no NVIDIA driver' },
    notices: [],
    ...over,
  };
}

/** Lets pending promise callbacks run. */
export const tick = (): Promise<void> => new Promise((r) => setImmediate(r));
