// The loopback transport of `keymate serve`: one HTTP server on 127.0.0.1
// that serves the built UI, at /ws a WebSocket speaking the contract's
// envelope (common/contract/wire.ts), and under /v1 the OpenAI-compatible API
// when one is given (api/openai-server.ts). Every HTTP request and every
// upgrade is checked by security.ts before anything else happens.
//
// Requests are validated by dispatch() (the host's end of the contract); an
// envelope that is not one (not JSON, no id) ends the connection with close
// code 1008 and the one-line reason, since there is nothing to answer it with.
import * as http from 'node:http';
import type { Duplex } from 'node:stream';

import { WebSocketServer, type WebSocket } from 'ws';

import { ContractError, type EventName, type RequestHandlers, type WireEvent, type WireResponse, WS_PATH, parseWire } from '../../../common/contract';
import { type OpenAiServer, isApiPath, pathOf } from '../api/openai-server';
import type { EventListener } from '../host-events';
import { dispatch } from './dispatch';
import { LOOPBACK, checkOrigin, checkToken, checkUpgrade, contentSecurityPolicy, newToken } from './security';
import { readStatic } from './static-files';

/** Far above any request of the contract; stops a client from making the host buffer gigabytes. */
const MAX_MESSAGE_BYTES = 1 << 20;
/** A client this far behind on events is dropped rather than buffered without end. */
const MAX_BUFFERED_BYTES = 16 << 20;

export interface HostLike {
  readonly handlers: RequestHandlers;
  subscribe(listener: EventListener): () => void;
}

export interface LoopbackServerOptions {
  host: HostLike;
  /** 0 = any free port. */
  port: number;
  /** The built renderer (dist/renderer). */
  rendererDir: string;
  /** For tests; a fresh random one by default. */
  token?: string;
  /** The OpenAI-compatible API, answered under /v1 (its own key, not the token); none: /v1 is not found. */
  api?: OpenAiServer;
}

export class LoopbackServer {
  private constructor(
    private readonly http: http.Server,
    private readonly wss: WebSocketServer,
    private readonly unsubscribe: () => void,
    readonly port: number,
    readonly token: string,
    private readonly api: OpenAiServer | null,
  ) {}

  get url(): string {
    return `http://${LOOPBACK}:${this.port}/?token=${this.token}`;
  }

  /** Where OpenAI clients point (their base URL). */
  get apiBase(): string {
    return `http://${LOOPBACK}:${this.port}/v1`;
  }

  get clients(): number {
    return this.wss.clients.size;
  }

  static async start(o: LoopbackServerOptions): Promise<LoopbackServer> {
    const token = o.token ?? newToken();
    const wss = new WebSocketServer({ noServer: true, maxPayload: MAX_MESSAGE_BYTES });
    let port = 0;
    const api = o.api ?? null;
    const server = http.createServer((req, res) => {
      if (api !== null && isApiPath(pathOf(req))) void api.handle(req, res, port);
      else void serveHttp(req, res, port, token, o.rendererDir);
    });
    server.on('upgrade', (req: http.IncomingMessage, socket: Duplex, head: Buffer) => {
      const verdict = checkUpgrade(req, port, token);
      if (pathOf(req) !== WS_PATH) return refuseUpgrade(socket, 404, 'not found');
      if (!verdict.ok) return refuseUpgrade(socket, verdict.status, verdict.reason);
      wss.handleUpgrade(req, socket, head, (ws) => wss.emit('connection', ws, req));
    });
    wss.on('connection', (ws: WebSocket) => serveSocket(ws, o.host.handlers));
    const unsubscribe = o.host.subscribe((name, payload) => broadcast(wss, name, payload));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(o.port, LOOPBACK, () => {
        server.off('error', reject);
        resolve();
      });
    });
    const address = server.address();
    if (address === null || typeof address === 'string') throw new Error('serve: the server has no TCP address');
    port = address.port;
    return new LoopbackServer(server, wss, unsubscribe, port, token, api);
  }

  async close(): Promise<void> {
    this.unsubscribe();
    this.api?.close();
    for (const ws of this.wss.clients) ws.close(1001, 'the host is stopping');
    await new Promise<void>((resolve) => this.wss.close(() => resolve()));
    this.http.closeAllConnections();
    await new Promise<void>((resolve) => this.http.close(() => resolve()));
  }
}

async function serveHttp(req: http.IncomingMessage, res: http.ServerResponse, port: number, token: string, root: string): Promise<void> {
  res.setHeader('X-Content-Type-Options', 'nosniff');
  res.setHeader('Referrer-Policy', 'no-referrer');
  res.setHeader('Cache-Control', 'no-store');
  const origin = checkOrigin(req, port);
  if (!origin.ok) return send(res, origin.status, 'text/plain; charset=utf-8', origin.reason + '\n');
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    res.setHeader('Allow', 'GET, HEAD');
    return send(res, 405, 'text/plain; charset=utf-8', 'method not allowed\n');
  }
  const file = await readStatic(root, pathOf(req));
  // Everything needs the token but the page's scripts and styles: they are the public UI bundle, and cannot carry it.
  const html = file.type.startsWith('text/html');
  if (html || file.status !== 200) {
    const verdict = checkToken(req, token);
    if (!verdict.ok) return send(res, verdict.status, 'text/plain; charset=utf-8', verdict.reason + '\n');
  }
  if (html) res.setHeader('Content-Security-Policy', contentSecurityPolicy(port));
  send(res, file.status, file.type, req.method === 'HEAD' ? '' : file.body);
}

function send(res: http.ServerResponse, status: number, type: string, body: string | Buffer): void {
  res.writeHead(status, { 'Content-Type': type });
  res.end(body);
}

function refuseUpgrade(socket: Duplex, status: number, reason: string): void {
  const text = { 401: 'Unauthorized', 403: 'Forbidden', 404: 'Not Found' }[status] ?? 'Error';
  socket.end(`HTTP/1.1 ${status} ${text}\r\nConnection: close\r\nContent-Type: text/plain\r\nContent-Length: ${Buffer.byteLength(reason)}\r\n\r\n${reason}`);
}

function serveSocket(ws: WebSocket, handlers: RequestHandlers): void {
  ws.on('message', (data, isBinary) => {
    if (isBinary) {
      closeWith(ws, 'contract: message: binary frames are not part of the contract (send JSON text)');
      return;
    }
    const text = (Array.isArray(data) ? Buffer.concat(data) : Buffer.isBuffer(data) ? data : Buffer.from(data)).toString('utf8');
    let message;
    try {
      message = parseWire(text);
    } catch (e) {
      closeWith(ws, e instanceof ContractError ? e.message : String(e));
      return;
    }
    if (message.kind !== 'request') {
      closeWith(ws, `contract: message: the UI sends requests only (got ${message.kind})`);
      return;
    }
    const { id } = message;
    void dispatch(handlers, message.name, message.payload, undefined).then((r) => {
      const reply: WireResponse = r.ok ? { kind: 'response', id, ok: true, result: r.result } : { kind: 'response', id, ok: false, error: r.error };
      if (ws.readyState === ws.OPEN) ws.send(JSON.stringify(reply));
    });
  });
  ws.on('error', () => ws.terminate());
}

/** Close reasons are limited to 123 bytes by the protocol. */
function closeWith(ws: WebSocket, reason: string): void {
  let r = reason;
  while (Buffer.byteLength(r) > 123) r = r.slice(0, -1);
  ws.close(1008, r);
}

function broadcast(wss: WebSocketServer, name: EventName, payload: unknown): void {
  const message: WireEvent = { kind: 'event', name, payload };
  const text = JSON.stringify(message);
  for (const ws of wss.clients) {
    if (ws.readyState !== ws.OPEN) continue;
    if (ws.bufferedAmount > MAX_BUFFERED_BYTES) {
      ws.terminate();
      continue;
    }
    ws.send(text);
  }
}
