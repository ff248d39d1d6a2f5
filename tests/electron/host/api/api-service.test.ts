// The desktop app's own OpenAI-compatible API: the real host (stories260K)
// listening on 127.0.0.1 at the port its Settings name, as the Electron app
// runs it (apiListener). The official `openai` client lists the model and
// gets a chat completion; a renewed key shuts the old one out; turning it off
// in Settings closes the port; a port another program holds is the status's
// one-line error while presses go on; only /v1 is answered.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as net from 'node:net';
import * as path from 'node:path';
import { type TestContext, test } from 'node:test';

import OpenAI from 'openai';

import { freePort } from '../../../support/serve';
import { QUICK, type Rig, startHost } from '../support';

const MODEL = 'stories260K';
const messages = [
  { role: 'system' as const, content: 'Tell a story.' },
  { role: 'user' as const, content: 'A dog and a cat' },
];

/** The host with its API on in Settings at `port`. */
function apiHost(t: TestContext, port: number): Promise<Rig> {
  return startHost(t, { apiListener: true }, { ...QUICK, api: { enabled: true, port, lan: false } });
}

function client(port: number, apiKey: string): OpenAI {
  return new OpenAI({ baseURL: `http://127.0.0.1:${port}/v1`, apiKey, maxRetries: 0, timeout: 60_000 });
}

/** What a new connection to `host`:`port` meets: its answer's status, 'refused', or the error's code. */
function connect(port: number, host = '127.0.0.1'): Promise<string> {
  return new Promise((resolve) => {
    http
      .get({ host, port, path: '/v1/models', agent: false }, (res) => {
        res.resume();
        resolve(`answered ${res.statusCode ?? 0}`);
      })
      .on('error', (e: NodeJS.ErrnoException) => resolve(e.code === 'ECONNREFUSED' ? 'refused' : String(e.code)));
  });
}

/** A press on the host's own engine, to its reply. */
async function press(rig: Rig, prompt: string): Promise<string> {
  const { press_id } = await rig.host.handlers.generate({ prompt }, undefined);
  const done = await rig.next('reply.done', (d) => d.press_id === press_id, 60_000);
  assert.ok(done.completion.length > 0);
  return done.completion;
}

test('on in Settings: listening on 127.0.0.1 at its port; the openai client lists the model and gets a chat completion', { timeout: 120_000 }, async (t) => {
  const port = await freePort();
  const rig = await apiHost(t, port);
  const status = await rig.host.handlers['api.status']({}, undefined);
  assert.equal(status.state, 'listening');
  assert.equal(status.api_base, `http://127.0.0.1:${port}/v1`);
  assert.equal(status.message, null);
  assert.equal(status.key_file, path.join(rig.home, 'api-key'));
  assert.equal(fs.readFileSync(status.key_file, 'utf8').trim(), status.key);
  assert.deepEqual(rig.host.state().api, status);

  const openai = client(port, status.key);
  const models = await openai.models.list();
  assert.deepEqual(
    models.data.map((m) => [m.id, m.owned_by]),
    [[MODEL, 'keymate']],
  );
  const reply = await openai.chat.completions.create({ model: MODEL, messages, max_tokens: 12, temperature: 0 });
  assert.ok((reply.choices[0]?.message.content ?? '').length > 0);
  assert.equal(reply.usage?.completion_tokens, 12);
  const streamed = await openai.chat.completions.create({ model: 'default', messages, max_tokens: 12, temperature: 0, stream: true });
  let text = '';
  for await (const c of streamed) text += c.choices[0]?.delta.content ?? '';
  assert.equal(text, reply.choices[0]?.message.content, 'greedy: the same text streamed');

  // Loopback only: 127.0.0.2 is loopback too on Linux, but not the address it listens on.
  if (process.platform === 'linux') assert.equal(await connect(port, '127.0.0.2'), 'refused');
});

test('a renewed key: the old one gets 401, the new one works, and it is the one kept', { timeout: 120_000 }, async (t) => {
  const port = await freePort();
  const rig = await apiHost(t, port);
  const old = rig.host.state().api.key;
  assert.equal((await client(port, old).models.list()).data.length, 1);

  const renewed = await rig.host.handlers['api.key.renew']({}, undefined);
  assert.notEqual(renewed.key, old);
  assert.match(renewed.key, /^km-[A-Za-z0-9_-]{43}$/);
  assert.equal(renewed.state, 'listening', 'still listening, on the same port');
  assert.equal(renewed.api_base, `http://127.0.0.1:${port}/v1`);
  assert.equal((await rig.next('api', (s) => s.key === renewed.key)).key, renewed.key);
  assert.equal(fs.readFileSync(renewed.key_file, 'utf8').trim(), renewed.key);

  await assert.rejects(client(port, old).models.list(), (e: unknown) => e instanceof OpenAI.AuthenticationError && e.status === 401);
  await assert.rejects(client(port, old).chat.completions.create({ model: MODEL, messages, max_tokens: 4 }), OpenAI.AuthenticationError);
  const reply = await client(port, renewed.key).chat.completions.create({ model: MODEL, messages, max_tokens: 4, temperature: 0 });
  assert.ok((reply.choices[0]?.message.content ?? '').length > 0);
});

test('turned off in Settings: the port refuses connections, the status is off; on again at another port', { timeout: 120_000 }, async (t) => {
  const port = await freePort();
  const rig = await apiHost(t, port);
  assert.equal(await connect(port), 'answered 401', 'listening (a request without a key)');

  await rig.host.handlers['settings.set']({ patch: { api: { enabled: false, port, lan: false } } }, undefined);
  const off = await rig.next('api', (s) => s.state === 'off');
  assert.deepEqual({ state: off.state, api_base: off.api_base, message: off.message }, { state: 'off', api_base: null, message: null });
  assert.equal(await connect(port), 'refused');
  assert.equal(rig.host.state().api.state, 'off');
  assert.deepEqual(rig.host.state().settings.api, { enabled: false, port, lan: false });

  const other = await freePort();
  await rig.host.handlers['settings.set']({ patch: { api: { enabled: true, port: other, lan: false } } }, undefined);
  const on = await rig.next('api', (s) => s.state === 'listening');
  assert.equal(on.api_base, `http://127.0.0.1:${other}/v1`);
  assert.equal(await connect(other), 'answered 401');
  assert.equal(await connect(port), 'refused', 'the old port stays closed');
  assert.equal((await client(other, on.key).models.list()).data[0]?.id, MODEL);
});

test('a port another program holds: the status is an error naming the port, and presses go on', { timeout: 120_000 }, async (t) => {
  const squatter = http.createServer((_req, res) => res.end('not keymate'));
  await new Promise<void>((resolve) => squatter.listen(0, '127.0.0.1', resolve));
  t.after(() => new Promise<void>((resolve) => squatter.close(() => resolve())));
  const taken = (squatter.address() as { port: number }).port;

  const rig = await apiHost(t, taken);
  const status = rig.host.state().api;
  assert.equal(status.state, 'error');
  assert.equal(status.api_base, null);
  assert.equal(status.message, `api: port ${taken} is in use (another program listens there): choose another port`);
  assert.equal(rig.host.state().engine.state, 'ready');
  await press(rig, 'The dog');

  // Another port in Settings mends it.
  const free = await freePort();
  await rig.host.handlers['settings.set']({ patch: { api: { enabled: true, port: free, lan: false } } }, undefined);
  const on = await rig.next('api', (s) => s.state === 'listening');
  assert.equal(on.message, null);
  assert.equal((await client(free, on.key).models.list()).data[0]?.id, MODEL);
  await press(rig, 'The cat');
});

test('outside /v1: a 404 with an OpenAI error body; the UI is not served on this port', { timeout: 60_000 }, async (t) => {
  const port = await freePort();
  const rig = await apiHost(t, port);
  const key = rig.host.state().api.key;
  for (const route of ['/', '/models', '/v1x/models', '/ws', '/index.html', '/v2/chat/completions']) {
    const r = await fetch(`http://127.0.0.1:${port}${route}`, { headers: { authorization: `Bearer ${key}` } });
    assert.equal(r.status, 404, route);
    assert.match(r.headers.get('content-type') ?? '', /^application\/json/, route);
    const body = (await r.json()) as { error: { message: string; type: string; code: string } };
    assert.deepEqual(body.error, { message: 'not found: the OpenAI-compatible API is under /v1', type: 'invalid_request_error', param: null, code: 'not_found' }, route);
  }
  // Under /v1, the API's own 404 for an unknown route.
  const r = await fetch(`http://127.0.0.1:${port}/v1/embeddings`, { method: 'POST', headers: { authorization: `Bearer ${key}` } });
  assert.equal(r.status, 404);
  assert.match(((await r.json()) as { error: { message: string } }).error.message, /^unknown route: POST \/v1\/embeddings/);
});

/** GET /v1/models with the key, naming `hostHeader` as the Host (what a machine on the network sends). */
function asFromNetwork(port: number, key: string, hostHeader: string): Promise<number> {
  return new Promise((resolve, reject) => {
    http
      .get({ host: '127.0.0.1', port, path: '/v1/models', agent: false, headers: { Host: hostHeader, Authorization: `Bearer ${key}` } }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      })
      .on('error', reject);
  });
}

test('the network is let in only when Settings say so: then any Host is taken, the key still required, a browser page from elsewhere still refused', { timeout: 60_000 }, async (t) => {
  const port = await freePort();
  const rig = await apiHost(t, port);
  const key = rig.host.state().api.key;
  assert.equal(await asFromNetwork(port, key, `gpu-box.lan:${port}`), 403, 'loopback only: another Host is a rebinding page');

  const listening = rig.next('api', (s) => s.state === 'listening' && (s.message ?? '').includes('network'));
  await rig.host.handlers['settings.set']({ patch: { api: { enabled: true, port, lan: true } } }, undefined);
  await listening;
  assert.equal(await asFromNetwork(port, key, `gpu-box.lan:${port}`), 200);
  assert.equal(await asFromNetwork(port, 'km-not-the-key-000000000000', `gpu-box.lan:${port}`), 401);
  const page = await new Promise<number>((resolve, reject) => {
    http
      .get({ host: '127.0.0.1', port, path: '/v1/models', agent: false, headers: { Origin: 'http://evil.example', Authorization: `Bearer ${key}` } }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      })
      .on('error', reject);
  });
  assert.equal(page, 403);

  const back = rig.next('api', (s) => s.state === 'listening' && s.message === null);
  await rig.host.handlers['settings.set']({ patch: { api: { enabled: true, port, lan: false } } }, undefined);
  await back;
  assert.equal(await asFromNetwork(port, key, `gpu-box.lan:${port}`), 403);
});

test('a request target that is not a URL path ("//[") is answered, and the host keeps answering', { timeout: 60_000 }, async (t) => {
  const port = await freePort();
  const rig = await apiHost(t, port);
  const reply = await new Promise<string>((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1', () => socket.end('GET //[ HTTP/1.1\r\nHost: 127.0.0.1:' + port + '\r\nConnection: close\r\n\r\n'));
    let got = '';
    socket.on('data', (d: Buffer) => (got += d.toString()));
    socket.on('end', () => resolve(got));
    socket.on('error', reject);
  });
  assert.match(reply, /^HTTP\/1\.1 404 /);
  assert.equal(await connect(port), 'answered 401', 'still answering');
  assert.ok((await press(rig, 'The end')).length > 0);
});
