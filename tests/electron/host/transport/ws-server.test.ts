// The loopback transport of `keymate serve`: it listens on 127.0.0.1 only,
// refuses the page and every WebSocket upgrade without the per-launch token
// in the query (401) or with a wrong one, and every request with a foreign
// Host or Origin (403), never sets or accepts a token cookie, serves only
// files of the built UI with a strict CSP, and speaks the
// contract: malformed requests are answered with the contract's error,
// non-envelopes close the socket with the reason, and events are broadcast.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as os from 'node:os';
import * as path from 'node:path';
import { type TestContext, test } from 'node:test';

import WebSocket from 'ws';

import { LoopbackServer } from '../../../../electron/host/transport/ws-server';
import { tempDir } from '../../../support/repo';
import { startHost } from '../support';

interface Got {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/** A received frame as text (ws hands over a Buffer, an ArrayBuffer or fragments). */
function text(d: WebSocket.RawData): string {
  return (Array.isArray(d) ? Buffer.concat(d) : Buffer.isBuffer(d) ? d : Buffer.from(d)).toString('utf8');
}

function get(port: number, urlPath: string, headers: Record<string, string> = {}, method = 'GET'): Promise<Got> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, path: urlPath, method, headers }, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

async function serve(t: TestContext, withUi = true) {
  const rig = await startHost(t);
  const ui = tempDir('keymate-ui-');
  if (withUi) {
    fs.mkdirSync(path.join(ui, 'assets'));
    fs.writeFileSync(path.join(ui, 'index.html'), '<!doctype html><script type="module" src="./assets/app.js"></script>');
    fs.writeFileSync(path.join(ui, 'assets', 'app.js'), 'console.log(1)');
  }
  const server = await LoopbackServer.start({ host: rig.host, port: 0, rendererDir: ui });
  t.after(() => server.close());
  return { ...rig, server };
}

/** Opens a socket and resolves once open, or rejects with the HTTP status that refused it. */
function connect(url: string, headers: Record<string, string> = {}): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { headers });
    ws.once('open', () => resolve(ws));
    ws.once('unexpected-response', (_req, res) => reject(new Error(`HTTP ${res.statusCode ?? 0}`)));
    ws.once('error', reject);
  });
}

function nextMessage(ws: WebSocket, match: (m: Record<string, unknown>) => boolean = () => true): Promise<Record<string, unknown>> {
  return new Promise((resolve) => {
    const on = (data: WebSocket.RawData): void => {
      const m = JSON.parse(text(data)) as Record<string, unknown>;
      if (!match(m)) return;
      ws.off('message', on);
      resolve(m);
    };
    ws.on('message', on);
  });
}

test('it listens on the loopback address only', async (t) => {
  const { server } = await serve(t);
  assert.match(server.url, /^http:\/\/127\.0\.0\.1:\d+\/\?token=[\w-]{43}$/);
  const outside = Object.values(os.networkInterfaces())
    .flat()
    .find((a) => a !== undefined && a.family === 'IPv4' && !a.internal);
  if (outside === undefined) return; // a machine with no other interface cannot be reached from elsewhere anyway
  await assert.rejects(
    new Promise((resolve, reject) => http.get({ host: outside.address, port: server.port, path: '/' }, resolve).on('error', reject)),
    /ECONNREFUSED/,
  );
});

test('HTTP: the page needs the token (none 401, wrong or foreign Host 403), sets no cookie, and has the CSP', async (t) => {
  const { server } = await serve(t);
  const p = server.port;
  assert.equal((await get(p, '/')).status, 401);
  assert.match((await get(p, '/')).body, /unauthorized: open the URL keymate serve printed/);
  assert.equal((await get(p, '/index.html')).status, 401);
  assert.equal((await get(p, '/?token=wrong')).status, 403);
  assert.equal((await get(p, `/?token=${server.token}`, { Host: `evil.example:${p}` })).status, 403);

  const page = await get(p, `/?token=${server.token}`);
  assert.equal(page.status, 200);
  assert.match(page.body, /assets\/app\.js/);
  const csp = String(page.headers['content-security-policy']);
  assert.match(csp, /default-src 'none'/);
  assert.match(csp, /script-src 'self'(;|$)/);
  assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval/);
  assert.equal(page.headers['referrer-policy'], 'no-referrer');
  // Cookies are shared by every port of 127.0.0.1: the token must never be one.
  assert.equal(page.headers['set-cookie'], undefined);
  // A cookie is no credential: the page with only a cookie is refused.
  assert.equal((await get(p, '/', { Cookie: `keymate_token=${server.token}` })).status, 401);

  // The page's scripts are the public bundle: served without the token, but not to a foreign Host or Origin.
  const asset = await get(p, '/assets/app.js');
  assert.equal(asset.status, 200);
  assert.equal(asset.headers['content-type'], 'text/javascript; charset=utf-8');
  assert.equal((await get(p, '/assets/app.js', { Host: `evil.example:${p}` })).status, 403);
  assert.equal((await get(p, '/assets/app.js', { Origin: 'http://127.0.0.1:1' })).status, 403);
  // Anything but a file of the bundle needs the token; nothing outside the UI's folder, and nothing but GET and HEAD.
  assert.equal((await get(p, '/ws')).status, 401);
  assert.equal((await get(p, '/no-such-file.js')).status, 401);
  assert.equal((await get(p, `/no-such-file.js?token=${server.token}`)).status, 404);
  assert.equal((await get(p, '/../../package.json')).status, 401);
  assert.equal((await get(p, `/../../package.json?token=${server.token}`)).status, 404);
  assert.equal((await get(p, `/%2e%2e/%2e%2e/package.json?token=${server.token}`)).status, 404);
  assert.equal((await get(p, `/?token=${server.token}`, {}, 'POST')).status, 405);
});

test('without a built UI the page says how to build it', async (t) => {
  const { server } = await serve(t, false);
  const page = await get(server.port, `/?token=${server.token}`);
  assert.equal(page.status, 503);
  assert.match(page.body, /The Keymate UI is not built: .*index\.html is missing\. Run `npm run build:renderer`/);
});

test('WebSocket: refused without the token, with a wrong one, or from a foreign origin', async (t) => {
  const { server } = await serve(t);
  const base = `ws://127.0.0.1:${server.port}/ws`;
  await assert.rejects(connect(base), /HTTP 401/);
  await assert.rejects(connect(`${base}?token=nope`), /HTTP 403/);
  await assert.rejects(connect(`${base}?token=${server.token}`, { Origin: 'https://evil.example' }), /HTTP 403/);
  await assert.rejects(connect(`ws://127.0.0.1:${server.port}/other?token=${server.token}`), /HTTP 404/);
  // Keymate's token as a cookie, with no Origin (a script elsewhere replaying it) or a foreign one: refused.
  await assert.rejects(connect(base, { Cookie: `keymate_token=${server.token}` }), /HTTP 401/);
  await assert.rejects(connect(base, { Cookie: `keymate_token=${server.token}`, Origin: 'http://127.0.0.1:1' }), /HTTP 403/);
  const ws = await connect(`${base}?token=${server.token}`, { Origin: `http://127.0.0.1:${server.port}` });
  ws.close();
});

test('WebSocket: requests answered, malformed ones refused with the contract error, events broadcast', async (t) => {
  const { server } = await serve(t);
  const ws = await connect(`ws://127.0.0.1:${server.port}/ws?token=${server.token}`);
  t.after(() => ws.close());

  const answer = nextMessage(ws, (m) => m['kind'] === 'response' && m['id'] === 1);
  ws.send(JSON.stringify({ kind: 'request', id: 1, name: 'state.get', payload: {} }));
  const state = await answer;
  assert.equal(state['ok'], true);
  assert.equal((state['result'] as { transport: string }).transport, 'websocket');

  const refused = nextMessage(ws, (m) => m['id'] === 2);
  ws.send(JSON.stringify({ kind: 'request', id: 2, name: 'generate', payload: { prompt: 7 } }));
  assert.deepEqual(await refused, { kind: 'response', id: 2, ok: false, error: "contract: request 'generate': field prompt: expected string, got number" });

  const unknown = nextMessage(ws, (m) => m['id'] === 3);
  ws.send(JSON.stringify({ kind: 'request', id: 3, name: 'fs.read', payload: {} }));
  assert.equal((await unknown)['error'], "contract: unknown request 'fs.read'");

  const done = nextMessage(ws, (m) => m['kind'] === 'event' && m['name'] === 'reply.done');
  ws.send(JSON.stringify({ kind: 'request', id: 4, name: 'generate', payload: { prompt: 'Once upon a time' } }));
  const event = (await done)['payload'] as { stop: string; timings: { ttft_ms: number } };
  assert.equal(event.stop, 'length');
  assert.ok(event.timings.ttft_ms > 0);
});

test('WebSocket: a message that is not an envelope closes the socket with the reason (1008)', async (t) => {
  const { server } = await serve(t);
  for (const [bad, reason] of [
    ['{not json', 'contract: message: not JSON'],
    [JSON.stringify({ kind: 'request', id: 'x', name: 'cancel', payload: {} }), 'contract: message: not a request, response or event envelope'],
    [JSON.stringify({ kind: 'event', name: 'key', payload: {} }), 'contract: message: the UI sends requests only (got event)'],
  ] as const) {
    const ws = await connect(`ws://127.0.0.1:${server.port}/ws?token=${server.token}`);
    const closed = new Promise<[number, string]>((resolve) => ws.once('close', (code, why) => resolve([code, String(why)])));
    ws.send(bad);
    assert.deepEqual(await closed, [1008, reason]);
  }
  // The server lets go of each refused socket (it may take a moment after the client sees the close).
  const deadline = Date.now() + 2000;
  while (server.clients > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
  assert.equal(server.clients, 0);
});
