// A real HTTP server on loopback that serves one file the way unreliable
// servers do, for the download tests. It writes raw HTTP on the socket so it
// can lie (a Content-Length that is not the body's), drop the connection
// mid-body, ignore Range, change its ETag, or hold the body until released.
// Each request takes the next behavior from `plan` (then `fallback`), and is
// logged with the Range and If-Range it carried.
import * as http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

export interface Behavior {
  /** Answer this status with an empty body instead of the file. */
  status?: number;
  /** Send the headers, then only this many body bytes, then close the socket. */
  dropAfter?: number;
  /** Announce this many more (or, negative, fewer) bytes than the body holds. */
  lengthLie?: number;
  ignoreRange?: boolean;
  /** Send this many body bytes, then wait for release() before the rest. */
  holdAfter?: number;
}

export interface Logged {
  path: string;
  range: string | null;
  ifRange: string | null;
}

export class ModelServer {
  plan: Behavior[] = [];
  fallback: Behavior = {};
  etag = '"v1"';
  readonly log: Logged[] = [];
  private readonly server: http.Server;
  private readonly sockets = new Set<Socket>();
  private releases: (() => void)[] = [];

  private constructor(public body: Buffer) {
    this.server = http.createServer((req) => this.answer(req));
    this.server.on('connection', (s) => {
      this.sockets.add(s);
      s.on('close', () => this.sockets.delete(s));
    });
  }

  static async start(body: Buffer): Promise<ModelServer> {
    const s = new ModelServer(body);
    await new Promise<void>((resolve) => s.server.listen(0, '127.0.0.1', resolve));
    return s;
  }

  /** /m.gguf serves the file; /r/N/m.gguf redirects N times first. */
  url(path = '/m.gguf'): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}${path}`;
  }

  /** Lets held bodies continue. */
  release(): void {
    const r = this.releases;
    this.releases = [];
    for (const f of r) f();
  }

  async stop(): Promise<void> {
    this.release();
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private answer(req: http.IncomingMessage): void {
    const socket = req.socket;
    const path = req.url ?? '/';
    this.log.push({ path, range: header(req, 'range'), ifRange: header(req, 'if-range') });
    const redirect = /^\/r\/(\d+)(\/.*)$/.exec(path);
    if (redirect !== null) {
      const n = Number(redirect[1]);
      const next = n <= 1 ? (redirect[2] ?? '/') : `/r/${n - 1}${redirect[2] ?? ''}`;
      this.raw(socket, 302, { location: next, 'content-length': '0' }, Buffer.alloc(0));
      return;
    }
    const b = this.plan.shift() ?? this.fallback;
    if (b.status !== undefined) {
      this.raw(socket, b.status, { 'content-length': '0' }, Buffer.alloc(0));
      return;
    }
    let start = 0;
    const range = header(req, 'range');
    const ifRange = header(req, 'if-range');
    const m = range === null ? null : /^bytes=(\d+)-$/.exec(range);
    if (m !== null && b.ignoreRange !== true && (ifRange === null || ifRange === this.etag)) {
      start = Number(m[1]);
      if (start >= this.body.length) {
        this.raw(socket, 416, { 'content-range': `bytes */${this.body.length}`, 'content-length': '0' }, Buffer.alloc(0));
        return;
      }
    }
    const part = this.body.subarray(start);
    const headers: Record<string, string> = { etag: this.etag, 'accept-ranges': 'bytes', 'content-length': String(part.length + (b.lengthLie ?? 0)) };
    if (start > 0) headers['content-range'] = `bytes ${start}-${this.body.length - 1}/${this.body.length}`;
    const status = start > 0 ? 206 : 200;
    if (b.dropAfter !== undefined) {
      this.raw(socket, status, headers, part.subarray(0, b.dropAfter), true);
      return;
    }
    if (b.holdAfter !== undefined) {
      const cut = b.holdAfter;
      socket.write(head(status, headers));
      socket.write(part.subarray(0, cut));
      this.releases.push(() => {
        if (!socket.destroyed) socket.end(part.subarray(cut));
      });
      return;
    }
    this.raw(socket, status, headers, part);
  }

  private raw(socket: Socket, status: number, headers: Record<string, string>, body: Buffer, drop = false): void {
    socket.write(head(status, headers));
    if (drop) {
      socket.end(body); // a clean close, before the announced length
      return;
    }
    socket.end(body);
  }
}

function head(status: number, headers: Record<string, string>): string {
  const lines = [`HTTP/1.1 ${status} ${http.STATUS_CODES[status] ?? ''}`, 'connection: close', ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`)];
  return lines.join('\r\n') + '\r\n\r\n';
}

function header(req: http.IncomingMessage, name: string): string | null {
  const v = req.headers[name];
  return typeof v === 'string' ? v : null;
}
