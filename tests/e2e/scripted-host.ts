// A stand-in for `keymate serve` that plays the host's side of the contract
// from a script: it serves the built UI, accepts the WebSocket at /ws with
// the page's token, answers requests from a handler table and sends events
// on demand. Everything it sends is validated against the contract first, so
// the UI is tested against messages the real host could send. It exists to
// show the UI states a CPU-only test machine cannot reach with the real host
// (live GPU telemetry, a profiled stage breakdown, a bench), and to check
// what the page sends (press sources, settings patches) request by request.
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as path from 'node:path';

import { WebSocketServer, type WebSocket } from 'ws';

import { checkEvent, checkResponse, parseRequest, type EventName, type EventOf, type RequestName, type WireMessage } from '../../common/contract';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.map': 'application/json',
};

export type Handlers = { [N in RequestName]?: (payload: unknown) => unknown };

export class ScriptedHost {
  readonly requests: { name: string; payload: unknown }[] = [];
  private readonly sockets = new Set<WebSocket>();

  private constructor(
    private readonly server: http.Server,
    private readonly wss: WebSocketServer,
    readonly url: string,
  ) {}

  static async start(rendererDir: string, handlers: Handlers, token = 'scripted-token'): Promise<ScriptedHost> {
    const wss = new WebSocketServer({ noServer: true });
    const server = http.createServer((req, res) => {
      const urlPath = new URL(req.url ?? '/', 'http://x').pathname;
      const file = path.join(rendererDir, urlPath === '/' ? 'index.html' : path.normalize(urlPath).replace(/^([/\\])+/, ''));
      if (!file.startsWith(rendererDir) || !fs.existsSync(file)) {
        res.writeHead(404).end();
        return;
      }
      res.writeHead(200, { 'Content-Type': TYPES[path.extname(file)] ?? 'application/octet-stream' }).end(fs.readFileSync(file));
    });
    // The upgrade handler runs only after listen() below, by when `host` is set.
    const ref: { host?: ScriptedHost } = {};
    server.on('upgrade', (req, socket, head) => {
      const url = new URL(req.url ?? '/', 'http://x');
      if (url.pathname !== '/ws' || url.searchParams.get('token') !== token) {
        socket.end('HTTP/1.1 401 Unauthorized\r\nConnection: close\r\n\r\n');
        return;
      }
      wss.handleUpgrade(req, socket, head, (ws) => ref.host?.serve(ws, handlers));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const address = server.address();
    if (address === null || typeof address === 'string') throw new Error('scripted host: no TCP address');
    ref.host = new ScriptedHost(server, wss, `http://127.0.0.1:${address.port}/?token=${token}`);
    return ref.host;
  }

  private serve(ws: WebSocket, handlers: Handlers): void {
    this.sockets.add(ws);
    ws.on('close', () => this.sockets.delete(ws));
    ws.on('message', (data: Buffer) => {
      const message = JSON.parse(data.toString('utf8')) as WireMessage;
      if (message.kind !== 'request') throw new Error(`scripted host: the page sent a ${message.kind}`);
      const { id, name } = message;
      let reply: unknown;
      try {
        // The page must send what the contract allows; a bad request fails the test through the page's error.
        const checked = parseRequest(name, message.payload);
        this.requests.push({ name: checked.name, payload: checked.payload });
        const handler = handlers[checked.name];
        if (handler === undefined) throw new Error(`${name}: not scripted`);
        reply = { kind: 'response', id, ok: true, result: checkResponse(checked.name, handler(checked.payload)) };
      } catch (e) {
        reply = { kind: 'response', id, ok: false, error: e instanceof Error ? e.message : String(e) };
      }
      ws.send(JSON.stringify(reply));
    });
  }

  get connected(): number {
    return this.sockets.size;
  }

  emit<E extends EventName>(name: E, payload: EventOf<E>): void {
    this.sendRaw(JSON.stringify({ kind: 'event', name, payload: checkEvent(name, payload) }));
  }

  /** Sends a text frame as it is: for messages that break the contract on purpose. */
  sendRaw(text: string): void {
    for (const ws of this.sockets) ws.send(text);
  }

  /** Ends every connection, as a host that restarts does; the page is expected to come back. */
  dropConnections(): void {
    for (const ws of this.sockets) ws.terminate();
  }

  /** The requests of one name, in order. */
  sent(name: RequestName): unknown[] {
    return this.requests.filter((r) => r.name === name).map((r) => r.payload);
  }

  async close(): Promise<void> {
    for (const ws of this.sockets) ws.terminate();
    await new Promise<void>((resolve) => this.wss.close(() => resolve()));
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
