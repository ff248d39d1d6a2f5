// The message envelope of the WebSocket transport (one JSON text frame per
// message) and a HostApi client over any socket-like object, so the renderer
// only has to hand it a WebSocket. Electron IPC does not use the envelope:
// its channels carry the payloads directly.
//
// A request's promise settles exactly once: with the validated response, with
// the host's error, or with "connection closed" when the socket goes away
// first. Payloads are validated before they are sent and when they arrive,
// as everywhere in the contract.
import { z } from 'zod';

import { ContractError } from './errors';
import {
  type EventName,
  type EventOf,
  type HostApi,
  type RequestName,
  type RequestOf,
  type ResponseOf,
  parseEvent,
  parseRequest,
  parseResponse,
} from './messages';

/** The path of the WebSocket endpoint on keymate serve's HTTP server (the page connects back to it). */
export const WS_PATH = '/ws';

export const WireRequest = z.strictObject({
  kind: z.literal('request'),
  id: z.number().int().nonnegative(),
  name: z.string(),
  payload: z.unknown(),
});
export const WireResponse = z.union([
  z.strictObject({ kind: z.literal('response'), id: z.number().int().nonnegative(), ok: z.literal(true), result: z.unknown() }),
  z.strictObject({ kind: z.literal('response'), id: z.number().int().nonnegative(), ok: z.literal(false), error: z.string() }),
]);
export const WireEvent = z.strictObject({ kind: z.literal('event'), name: z.string(), payload: z.unknown() });
export const WireMessage = z.union([WireRequest, WireResponse, WireEvent]);
export type WireRequest = z.infer<typeof WireRequest>;
export type WireResponse = z.infer<typeof WireResponse>;
export type WireEvent = z.infer<typeof WireEvent>;
export type WireMessage = z.infer<typeof WireMessage>;

/** Parses one text frame; throws ContractError with a one-line reason. */
export function parseWire(text: string): WireMessage {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new ContractError('contract: message: not JSON');
  }
  // The kind picks the one envelope to check: the union would check the others first
  // (an event, the commonest message, came last), costing the page its time per token.
  const kind = typeof json === 'object' && json !== null ? (json as { kind?: unknown }).kind : undefined;
  const envelope = kind === 'event' ? WireEvent : kind === 'response' ? WireResponse : kind === 'request' ? WireRequest : null;
  const r = envelope?.safeParse(json);
  if (r === undefined || !r.success) throw new ContractError('contract: message: not a request, response or event envelope');
  return r.data;
}

/** The part of a WebSocket the client needs (the browser's WebSocket fits). */
export interface WireSocket {
  send(text: string): void;
}

type Listener = (payload: never) => void;

export class WireClient implements HostApi {
  private nextId = 1;
  private readonly pending = new Map<number, { name: RequestName; resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  private readonly listeners = new Map<string, Set<Listener>>();
  private closedWith: string | undefined;

  /** onProblem hears of messages from the host that break the contract (they are dropped). */
  constructor(
    private readonly socket: WireSocket,
    private readonly onProblem: (error: Error) => void = () => undefined,
  ) {}

  request<N extends RequestName>(name: N, payload: RequestOf<N>): Promise<ResponseOf<N>> {
    if (this.closedWith !== undefined) return Promise.reject(new Error(`request '${name}': ${this.closedWith}`));
    let checked: RequestOf<N>;
    try {
      checked = parseRequest(name, payload).payload as RequestOf<N>;
    } catch (e) {
      return Promise.reject(e instanceof Error ? e : new Error(String(e)));
    }
    const id = this.nextId++;
    return new Promise<ResponseOf<N>>((resolve, reject) => {
      this.pending.set(id, { name, resolve: resolve as (v: unknown) => void, reject });
      const message: WireRequest = { kind: 'request', id, name, payload: checked };
      try {
        this.socket.send(JSON.stringify(message));
      } catch (e) {
        this.pending.delete(id);
        reject(new Error(`request '${name}': cannot send: ${e instanceof Error ? e.message : String(e)}`));
      }
    });
  }

  on<E extends EventName>(event: E, listener: (payload: EventOf<E>) => void): () => void {
    let set = this.listeners.get(event);
    if (set === undefined) {
      set = new Set();
      this.listeners.set(event, set);
    }
    set.add(listener);
    return () => {
      set.delete(listener);
    };
  }

  /** Feed every text frame from the socket here. */
  receive(text: string): void {
    let message: WireMessage;
    try {
      message = parseWire(text);
    } catch (e) {
      this.onProblem(e as Error);
      return;
    }
    if (message.kind === 'event') {
      let payload: unknown;
      try {
        payload = parseEvent(message.name, message.payload).payload;
      } catch (e) {
        this.onProblem(e as Error);
        return;
      }
      for (const listener of this.listeners.get(message.name) ?? []) {
        try {
          (listener as (p: unknown) => void)(payload);
        } catch (e) {
          this.onProblem(e instanceof Error ? e : new Error(String(e)));
        }
      }
      return;
    }
    if (message.kind === 'response') {
      const waiting = this.pending.get(message.id);
      if (waiting === undefined) {
        this.onProblem(new ContractError(`contract: response to unknown request id ${message.id}`));
        return;
      }
      this.pending.delete(message.id);
      if (!message.ok) {
        waiting.reject(new Error(message.error));
        return;
      }
      try {
        waiting.resolve(parseResponse(waiting.name, message.result).payload);
      } catch (e) {
        waiting.reject(e as Error);
      }
      return;
    }
    this.onProblem(new ContractError('contract: message: the host sent a request'));
  }

  /** The socket closed: every request still waiting fails, and later ones fail at once. */
  close(reason = 'connection closed'): void {
    this.closedWith = reason;
    for (const [id, waiting] of this.pending) {
      this.pending.delete(id);
      waiting.reject(new Error(`request '${waiting.name}': ${reason}`));
    }
  }
}
