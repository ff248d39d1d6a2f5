// The per-launch token stays with Keymate's own page, as an attacker on the
// same machine would test it: Keymate's UI open in Chromium, and a second web
// server on another port of 127.0.0.1 (a dev server, another user's process).
// Cookies are not separated by port, so anything Keymate put in a cookie
// would reach that server; it must see no token, and its page must not be
// able to open Keymate's WebSocket. A client replaying a Keymate cookie with
// no Origin, or a foreign one, is refused as well.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as path from 'node:path';
import { test } from 'node:test';

import WebSocket from 'ws';

import { LoopbackServer } from '../../electron/host/transport/ws-server';
import { startHost } from '../electron/host/support';
import { root } from '../support/repo';
import { findChromium, launchChromium, waitUntil } from './browser';

const chromiumPath = findChromium();
const skip = chromiumPath === null && process.env['CI'] === undefined ? 'no chromium (apt-get install chromium, or set KEYMATE_CHROMIUM)' : false;

/** The other server: records every request's Cookie header, and serves a page that tries to reach Keymate. */
async function otherServer(keymatePort: number) {
  const seen: { url: string; cookie: string }[] = [];
  const results: string[] = [];
  const page = `<!doctype html><title>other</title><script>
    const report = (r) => fetch('/result?' + encodeURIComponent(r));
    const ws = new WebSocket('ws://127.0.0.1:${keymatePort}/ws');
    ws.onopen = () => report('ws-open');
    ws.onerror = () => report('ws-refused');
    fetch('http://127.0.0.1:${keymatePort}/', { credentials: 'include', mode: 'no-cors' }).then(() => report('fetch-sent'), () => report('fetch-failed'));
  </script>`;
  const server = http.createServer((req, res) => {
    seen.push({ url: req.url ?? '', cookie: req.headers.cookie ?? '' });
    if ((req.url ?? '').startsWith('/result?')) results.push(decodeURIComponent((req.url ?? '').slice('/result?'.length)));
    res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' });
    res.end(page);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  assert.ok(address !== null && typeof address !== 'string');
  // Chromium keeps idle (and speculative, request-less) sockets open for minutes; close them rather than wait.
  const close = () =>
    new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
  return { port: address.port, seen, results, close };
}

function refusedStatus(url: string, headers: Record<string, string>): Promise<number> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { headers });
    ws.once('open', () => {
      ws.close();
      reject(new Error(`${url} opened with ${JSON.stringify(headers)}`));
    });
    ws.once('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
    ws.once('error', reject);
  });
}

test('another server on 127.0.0.1 never sees the token, and its page cannot open the socket', { skip, timeout: 60_000 }, async (t) => {
  assert.ok(chromiumPath !== null, 'chromium not found (CI installs it: .ci/run)');
  const rendererDir = path.join(root, 'dist', 'renderer');
  assert.ok(fs.existsSync(path.join(rendererDir, 'index.html')), 'the UI is not built (npm run build:renderer)');
  // After-hooks run in the order registered: the browser goes first, so no server waits on its sockets.
  const browser = await launchChromium(chromiumPath);
  t.after(() => browser.close());
  const rig = await startHost(t);
  const keymate = await LoopbackServer.start({ host: rig.host, port: 0, rendererDir });
  t.after(() => keymate.close());
  const other = await otherServer(keymate.port);
  t.after(() => other.close());

  const context = await browser.newContext();
  const page = await context.newPage();
  await page.goto(keymate.url);
  // The UI is up and talking to the host over its socket.
  await waitUntil("the UI's socket", 15_000, () => Promise.resolve(keymate.clients >= 1));
  assert.deepEqual(await context.cookies(), [], 'Keymate set a cookie; every server on 127.0.0.1 would receive it');

  const foreign = await context.newPage();
  await foreign.goto(`http://127.0.0.1:${other.port}/`);
  await waitUntil("the other page's attempts", 15_000, () => Promise.resolve(other.results.includes('fetch-sent') || other.results.includes('fetch-failed')));
  await waitUntil('the socket attempt', 15_000, () => Promise.resolve(other.results.some((r) => r.startsWith('ws-'))));
  assert.ok(other.results.includes('ws-refused'), `the other page's socket: ${other.results.join(', ')}`);
  assert.ok(!other.results.includes('ws-open'));
  assert.equal(keymate.clients, 1, 'only the UI is connected');
  for (const r of other.seen) {
    assert.ok(!r.cookie.includes(keymate.token), `the other server got the token in a cookie at ${r.url}`);
    assert.doesNotMatch(r.cookie, /keymate/i);
  }

  // A script elsewhere replaying a cookie, with no Origin or a foreign one: refused like no token at all.
  const ws = `ws://127.0.0.1:${keymate.port}/ws`;
  assert.equal(await refusedStatus(ws, { Cookie: `keymate_token=${keymate.token}` }), 401);
  assert.equal(await refusedStatus(ws, { Cookie: `keymate_token=${keymate.token}`, Origin: `http://127.0.0.1:${other.port}` }), 403);
  assert.equal(await refusedStatus(`${ws}?token=${keymate.token}`, { Origin: `http://127.0.0.1:${other.port}` }), 403);
});
