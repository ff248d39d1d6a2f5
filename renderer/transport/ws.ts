// The WebSocket transport for `keymate serve`: the page's URL carries the
// per-launch token (?token=...), and the socket goes back to the same host
// and port with it. The contract's WireClient does the messages; this file
// adds what a browser needs around it: one HostApi that outlives any single
// socket (listeners stay registered across reconnects), and reconnection
// with backoff when the host restarts or the network stack drops the socket.
import {
  EVENT_NAMES,
  WS_PATH,
  WireClient,
  type EventName,
  type EventOf,
  type HostApi,
  type RequestName,
  type RequestOf,
  type ResponseOf,
} from '../../common/contract';
import { backoffMs } from '../../common/units';

const RETRY_INITIAL_MS = 250;
const RETRY_MAX_MS = 5000;

export type WsState = 'connecting' | 'open' | 'closed';

export interface WsHostOptions {
  /** The page URL (location.href): gives the host, the port and the token. */
  pageUrl: string;
  onState: (state: WsState, message: string | null) => void;
  /** A message from the host that broke the contract (it was dropped). */
  onProblem: (error: Error) => void;
  /** Injected for tests; the browser's WebSocket by default. */
  createSocket?: (url: string) => WebSocket;
}

/** The socket URL for a page URL, or an error in words when the page has no token. */
export function socketUrl(pageUrl: string): string {
  const page = new URL(pageUrl);
  const token = page.searchParams.get('token');
  if (token === null || token === '') {
    throw new Error('no token in the page address: open the URL that `keymate serve` printed, with its ?token=...');
  }
  const scheme = page.protocol === 'https:' ? 'wss:' : 'ws:';
  return `${scheme}//${page.host}${WS_PATH}?token=${encodeURIComponent(token)}`;
}

export class WsHost implements HostApi {
  private client: WireClient | null = null;
  private readonly listeners = new Map<EventName, Set<(payload: never) => void>>();
  /** Failed connections in a row: the next retry waits backoffMs(attempt). */
  private attempt = 0;
  private stopped = false;
  private readonly url: string;

  constructor(private readonly options: WsHostOptions) {
    this.url = socketUrl(options.pageUrl);
    this.open();
  }

  request<N extends RequestName>(name: N, payload: RequestOf<N>): Promise<ResponseOf<N>> {
    if (this.client === null) return Promise.reject(new Error(`request '${name}': not connected to the host`));
    return this.client.request(name, payload);
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

  /** Closes for good (the page is going away). */
  stop(): void {
    this.stopped = true;
    this.client?.close('the page closed the connection');
  }

  private open(): void {
    this.options.onState('connecting', null);
    const socket = (this.options.createSocket ?? ((u: string) => new WebSocket(u)))(this.url);
    const client = new WireClient(socket, this.options.onProblem);
    // One forwarding listener per event on this socket's client; the set of
    // user listeners is shared by every socket.
    for (const name of EVENT_NAMES) {
      client.on(name, (payload) => {
        for (const l of this.listeners.get(name) ?? []) (l as (p: typeof payload) => void)(payload);
      });
    }
    socket.addEventListener('open', () => {
      this.client = client;
      this.attempt = 0;
      this.options.onState('open', null);
    });
    socket.addEventListener('message', (e: MessageEvent) => {
      if (typeof e.data === 'string') client.receive(e.data);
      else this.options.onProblem(new Error('contract: message: a binary frame (the contract is JSON text)'));
    });
    socket.addEventListener('close', (e: CloseEvent) => {
      client.close('connection to the host closed');
      if (this.client === client) this.client = null;
      if (this.stopped) return;
      const why = e.reason !== '' ? e.reason : `connection to the host closed (code ${e.code})`;
      const delay = backoffMs(++this.attempt, RETRY_INITIAL_MS, RETRY_MAX_MS);
      this.options.onState('closed', `${why}; retrying in ${(delay / 1000).toFixed(1)} s`);
      setTimeout(() => this.open(), delay);
    });
  }
}
