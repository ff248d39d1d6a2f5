// The OpenAI-compatible API over real HTTP on the loopback server, with a
// scripted engine (what it replies, when, and how it fails is the test's):
// the key, the UI transport's Host and Origin checks, no CORS, the routes,
// OpenAI's error body for each refusal, the bytes of a stream on the wire,
// stop sequences cut across tokens (streamed and whole alike), the bounded
// line with its 429, large bodies, a client that leaves, and engine failures
// before and after a stream began.
import * as assert from 'node:assert/strict';
import * as http from 'node:http';
import { type TestContext, test } from 'node:test';

import type { RequestHandlers } from '../../../../common/contract';
import type { CompletionRequest } from '../../../../common/openai';
import { badRequest } from '../../../../electron/host/api/api-error';
import type { CompletionEngine, CompletionEvents, CompletionOutcome, ServedModel } from '../../../../electron/host/api/completion-engine';
import { OpenAiServer } from '../../../../electron/host/api/openai-server';
import { LoopbackServer } from '../../../../electron/host/transport/ws-server';
import { tempDir } from '../../../support/repo';

const KEY = 'km-test-key-0123456789abcdef';

/** An engine that replies with `tokens`, one per macrotask, and records what it was asked. */
class ScriptedEngine implements CompletionEngine {
  served: ServedModel[] = [{ id: 'tiny', created: 1_700_000_000, ownedBy: 'keymate' }];
  tokens = ['Once', ' upon', ' a', ' time'];
  /** Fail before the engine starts (like a model that does not load) or after this many tokens. */
  failAt: 'start' | number | null = null;
  /** Thrown before start instead of an engine failure (like a prompt over the context). */
  refuse: Error | null = null;
  /** Held until opened: each request waits for it before its first token. */
  hold: Promise<void> | null = null;
  asked: CompletionRequest[] = [];
  aborted = 0;
  running = 0;
  maxRunning = 0;

  models(): ServedModel[] {
    return this.served;
  }

  async complete(request: CompletionRequest, events: CompletionEvents, signal: AbortSignal): Promise<CompletionOutcome> {
    this.asked.push(request);
    this.running++;
    this.maxRunning = Math.max(this.maxRunning, this.running);
    try {
      if (this.refuse !== null) throw this.refuse;
      if (this.failAt === 'start') throw new Error('loading tiny.gguf: not a GGUF file');
      events.onStart();
      await this.hold;
      let n = 0;
      for (const t of this.tokens.slice(0, request.maxTokens ?? undefined)) {
        if (signal.aborted) break;
        if (this.failAt === n) throw new Error('the GPU fell off the bus');
        events.onDelta({ content: t, reasoning: '' });
        n++;
        await new Promise((r) => setTimeout(r, 1));
      }
      if (signal.aborted) this.aborted++;
      const stop = signal.aborted ? 'cancelled' : n < this.tokens.length ? 'length' : 'eos';
      return { stop, promptTokens: 7, cachedTokens: 3, completionTokens: n };
    } finally {
      this.running--;
    }
  }
}

interface Got {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

async function start(t: TestContext, options: { maxWaiting?: number } = {}) {
  const engine = new ScriptedEngine();
  const logged: string[] = [];
  const api = new OpenAiServer({ engine, apiKey: KEY, maxWaiting: options.maxWaiting, log: (l) => logged.push(l) });
  const host = { handlers: {} as RequestHandlers, subscribe: () => () => undefined };
  const server = await LoopbackServer.start({ host, port: 0, rendererDir: tempDir('keymate-ui-'), api });
  t.after(() => server.close());
  const port = server.port;
  const call = (method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<Got> =>
    new Promise((resolve, reject) => {
      const data = body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body);
      const req = http.request(
        { host: '127.0.0.1', port, method, path, headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json', ...headers } },
        (res) => {
          let text = '';
          res.setEncoding('utf8');
          res.on('data', (d: string) => (text += d));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text }));
        },
      );
      req.on('error', reject);
      req.end(data);
    });
  return { engine, server, port, call, logged };
}

const chat = (extra: Record<string, unknown> = {}) => ({ model: 'tiny', messages: [{ role: 'user', content: 'Tell a story' }], ...extra });

function errorOf(got: Got): { message: string; type: string; param: string | null; code: string | null } {
  assert.match(String(got.headers['content-type']), /^application\/json/);
  const body = JSON.parse(got.body) as { error: { message: string; type: string; param: string | null; code: string | null } };
  assert.deepEqual(Object.keys(body), ['error']);
  assert.deepEqual(Object.keys(body.error).sort(), ['code', 'message', 'param', 'type']);
  assert.doesNotMatch(body.error.message, /\n/, 'one line');
  return body.error;
}

/** The events of a stream as they are on the wire: each `data: <payload>` followed by a blank line, nothing else. */
function sseEvents(body: string): string[] {
  assert.ok(body.endsWith('\n\n'), 'the stream ends with a blank line');
  const blocks = body.slice(0, -2).split('\n\n');
  return blocks.map((b) => {
    assert.match(b, /^data: [^\n]*$/, `one data line per event: ${JSON.stringify(b)}`);
    return b.slice('data: '.length);
  });
}

test('models: the list and one model in OpenAI shapes; an unknown one is a 404', async (t) => {
  const { call } = await start(t);
  const list = await call('GET', '/v1/models');
  assert.equal(list.status, 200);
  assert.deepEqual(JSON.parse(list.body), { object: 'list', data: [{ id: 'tiny', object: 'model', created: 1_700_000_000, owned_by: 'keymate' }] });
  assert.deepEqual(JSON.parse((await call('GET', '/v1/models/tiny')).body), { id: 'tiny', object: 'model', created: 1_700_000_000, owned_by: 'keymate' });
  const missing = await call('GET', '/v1/models/other');
  assert.equal(missing.status, 404);
  assert.equal(errorOf(missing).code, 'model_not_found');
});

test('the key: missing, malformed or wrong is a 401 in the error shape; no CORS headers, ever', async (t) => {
  const { call, engine } = await start(t);
  const cases: [Record<string, string>, RegExp][] = [
    [{ authorization: '' }, /^missing API key/],
    [{ authorization: `Basic ${KEY}` }, /must be "Bearer <key>"/],
    [{ authorization: 'Bearer km-wrong' }, /^wrong API key/],
    [{ authorization: `Bearer ${KEY}x` }, /^wrong API key/],
    [{ authorization: `Bearer ${KEY.slice(0, -1)}` }, /^wrong API key/],
  ];
  for (const [headers, message] of cases) {
    for (const [method, path, body] of [['GET', '/v1/models', undefined], ['POST', '/v1/chat/completions', chat()], ['GET', '/v1/nowhere', undefined]] as const) {
      const got = await call(method, path, body, headers);
      assert.equal(got.status, 401, `${method} ${path} with ${JSON.stringify(headers)}`);
      const e = errorOf(got);
      assert.match(e.message, message);
      assert.equal(e.code, 'invalid_api_key');
      assert.equal(e.type, 'invalid_request_error');
    }
  }
  assert.equal(engine.asked.length, 0, 'nothing reached the engine');
  const ok = await call('GET', '/v1/models', undefined, { authorization: `bearer  ${KEY}` });
  assert.equal(ok.status, 200, 'the scheme in any case, spaces around the key');
  for (const got of [ok, await call('POST', '/v1/chat/completions', chat(), { origin: `http://127.0.0.1:${(await start(t)).port}` })]) {
    assert.equal(
      Object.keys(got.headers).find((h) => h.startsWith('access-control-')),
      undefined,
    );
  }
});

test("the UI transport's checks: a foreign Host (DNS rebinding) or Origin is a 403, even with the key", async (t) => {
  const { call, port } = await start(t);
  const foreign: Record<string, string>[] = [{ host: `evil.example:${port}` }, { host: `127.0.0.1:${port + 1}` }, { origin: 'http://evil.example' }, { origin: `http://127.0.0.1:${port + 1}` }];
  for (const headers of foreign) {
    const got = await call('POST', '/v1/chat/completions', chat(), headers);
    assert.equal(got.status, 403, JSON.stringify(headers));
    assert.match(errorOf(got).message, /^forbidden: /);
  }
  assert.equal((await call('GET', '/v1/models', undefined, { host: `localhost:${port}` })).status, 200);
  assert.equal((await call('GET', '/v1/models', undefined, { origin: `http://127.0.0.1:${port}` })).status, 200, 'the served page itself');
});

test('routes: unknown is a 404, a wrong method a 405 with Allow; the UI is not under /v1', async (t) => {
  const { call } = await start(t);
  const unknown = await call('POST', '/v1/embeddings', { input: 'x' });
  assert.equal(unknown.status, 404);
  assert.match(errorOf(unknown).message, /^unknown route: POST \/v1\/embeddings/);
  const wrong = await call('GET', '/v1/chat/completions');
  assert.equal(wrong.status, 405);
  assert.equal(wrong.headers['allow'], 'POST');
  assert.equal(errorOf(wrong).code, 'method_not_allowed');
  assert.equal((await call('DELETE', '/v1/models')).status, 405);
  assert.equal((await call('GET', '/v1')).status, 404);
  assert.equal((await call('GET', '/v1/models/')).status, 200, 'a trailing slash is the same route');
});

test('a chat completion, whole: the reply, the finish reason and the usage', async (t) => {
  const { call, engine } = await start(t);
  const got = await call('POST', '/v1/chat/completions', chat({ temperature: 0, seed: 3 }));
  assert.equal(got.status, 200);
  const body = JSON.parse(got.body) as Record<string, unknown>;
  assert.match(String(body['id']), /^chatcmpl-[0-9a-f]{24}$/);
  assert.equal(body['object'], 'chat.completion');
  assert.equal(body['model'], 'tiny');
  assert.ok(Math.abs(Number(body['created']) - Date.now() / 1000) < 60);
  assert.deepEqual(body['choices'], [{ index: 0, message: { role: 'assistant', content: 'Once upon a time' }, logprobs: null, finish_reason: 'stop' }]);
  assert.deepEqual(body['usage'], { prompt_tokens: 7, completion_tokens: 4, total_tokens: 11, prompt_tokens_details: { cached_tokens: 3 } });
  assert.deepEqual(engine.asked[0]?.input, { kind: 'chat', messages: [{ role: 'user', content: 'Tell a story' }] });
  assert.equal(engine.asked[0]?.seed, 3);
  const short = JSON.parse((await call('POST', '/v1/chat/completions', chat({ max_tokens: 2 }))).body) as { choices: { finish_reason: string; message: { content: string } }[] };
  assert.deepEqual(short.choices[0], { index: 0, message: { role: 'assistant', content: 'Once upon' }, logprobs: null, finish_reason: 'length' });
  const alias = await call('POST', '/v1/chat/completions', chat({ model: 'default' }));
  assert.equal(alias.status, 200);
  assert.equal((JSON.parse(alias.body) as { model: string }).model, 'tiny', 'the alias answers with the id');
});

test('a chat completion streamed: the bytes on the wire, chunk shapes, the same text, [DONE] last', async (t) => {
  const { call } = await start(t);
  const got = await call('POST', '/v1/chat/completions', chat({ stream: true }));
  assert.equal(got.status, 200);
  assert.equal(got.headers['content-type'], 'text/event-stream; charset=utf-8');
  assert.equal(got.headers['cache-control'], 'no-store');
  const events = sseEvents(got.body);
  assert.equal(events.at(-1), '[DONE]');
  assert.equal(events.filter((e) => e === '[DONE]').length, 1);
  const chunks = events.slice(0, -1).map((e) => JSON.parse(e) as { id: string; object: string; model: string; usage?: unknown; choices: { index: number; delta: { role?: string; content?: string }; finish_reason: string | null; logprobs: null }[] });
  assert.equal(new Set(chunks.map((c) => c.id)).size, 1, 'one id for the whole stream');
  for (const c of chunks) {
    assert.equal(c.object, 'chat.completion.chunk');
    assert.equal(c.model, 'tiny');
    assert.equal('usage' in c, false, 'no usage field unless asked for');
  }
  assert.deepEqual(chunks[0]?.choices, [{ index: 0, delta: { role: 'assistant', content: '' }, logprobs: null, finish_reason: null }]);
  assert.deepEqual(chunks.at(-1)?.choices, [{ index: 0, delta: {}, logprobs: null, finish_reason: 'stop' }]);
  const middle = chunks.slice(1, -1);
  assert.ok(middle.every((c) => c.choices[0]?.finish_reason === null && (c.choices[0]?.delta.content ?? '') !== ''));
  assert.equal(middle.map((c) => c.choices[0]?.delta.content).join(''), 'Once upon a time');

  const withUsage = sseEvents((await call('POST', '/v1/chat/completions', chat({ stream: true, stream_options: { include_usage: true } }))).body);
  const last = JSON.parse(withUsage.at(-2) ?? '') as { choices: unknown[]; usage: unknown };
  assert.deepEqual(last.choices, []);
  assert.deepEqual(last.usage, { prompt_tokens: 7, completion_tokens: 4, total_tokens: 11, prompt_tokens_details: { cached_tokens: 3 } });
  const before = withUsage.slice(0, -2).map((e) => JSON.parse(e) as { usage: unknown });
  assert.ok(before.every((c) => c.usage === null), 'with include_usage every other chunk says usage: null');
});

test('a text completion, whole and streamed', async (t) => {
  const { call, engine } = await start(t);
  const whole = JSON.parse((await call('POST', '/v1/completions', { model: 'tiny', prompt: 'Once', max_tokens: 3 })).body) as Record<string, unknown>;
  assert.equal(whole['object'], 'text_completion');
  assert.match(String(whole['id']), /^cmpl-/);
  assert.deepEqual(whole['choices'], [{ index: 0, text: 'Once upon a', logprobs: null, finish_reason: 'length' }]);
  assert.deepEqual(engine.asked[0]?.input, { kind: 'text', prompt: 'Once' });
  const events = sseEvents((await call('POST', '/v1/completions', { model: 'tiny', prompt: 'Once', stream: true })).body);
  assert.equal(events.at(-1), '[DONE]');
  const chunks = events.slice(0, -1).map((e) => JSON.parse(e) as { object: string; choices: { text: string; finish_reason: string | null }[] });
  assert.ok(chunks.every((c) => c.object === 'text_completion'));
  assert.equal(chunks.map((c) => c.choices[0]?.text).join(''), 'Once upon a time');
  assert.equal(chunks.at(-1)?.choices[0]?.finish_reason, 'stop');
});

test('stop sequences across token boundaries: never sent, the same text streamed and whole, the generation stopped', async (t) => {
  const { call, engine } = await start(t);
  engine.tokens = ['Hello', ' wor', 'ld.\n', '\nUs', 'er:', ' and', ' more', ' text', ' that', ' never', ' comes'];
  const body = chat({ stop: ['\n\nUser:', 'never'] });
  const whole = JSON.parse((await call('POST', '/v1/chat/completions', body)).body) as { choices: { message: { content: string }; finish_reason: string }[]; usage: { completion_tokens: number } };
  assert.equal(whole.choices[0]?.message.content, 'Hello world.');
  assert.equal(whole.choices[0]?.finish_reason, 'stop');
  assert.ok(whole.usage.completion_tokens < engine.tokens.length, 'the engine was stopped, not run to the end');
  assert.equal(engine.aborted, 1);
  const events = sseEvents((await call('POST', '/v1/chat/completions', { ...body, stream: true })).body);
  const deltas = events.slice(0, -1).map((e) => (JSON.parse(e) as { choices: { delta: { content?: string } }[] }).choices[0]?.delta.content ?? '');
  assert.equal(deltas.join(''), 'Hello world.');
  assert.ok(deltas.every((d) => !d.includes('\n\n') && !d.includes('User')), 'no part of the stop sequence went out');
  const text = JSON.parse((await call('POST', '/v1/completions', { model: 'tiny', prompt: 'x', stop: 'd.' })).body) as { choices: { text: string }[] };
  assert.equal(text.choices[0]?.text, 'Hello worl');
});

test('hostile requests: the right 4xx each, the engine never asked, and the next request answered', async (t) => {
  const { call, engine, port } = await start(t);
  const cases: [string, string, number, RegExp][] = [
    ['/v1/chat/completions', '{"model": "tiny", "messages": [', 400, /^invalid JSON: /],
    ['/v1/chat/completions', '', 400, /^the body is empty/],
    ['/v1/chat/completions', '[]', 400, /^the body must be a JSON object/],
    ['/v1/chat/completions', JSON.stringify(chat({ max_tokens: -1 })), 400, /^max_tokens: too small/],
    ['/v1/chat/completions', JSON.stringify(chat({ max_tokens: 1.5 })), 400, /^max_tokens: expected an integer/],
    ['/v1/chat/completions', JSON.stringify({ model: 'tiny', messages: 'hi' }), 400, /^messages: expected array, got string/],
    ['/v1/chat/completions', JSON.stringify({ model: 'tiny', messages: [] }), 400, /^messages: must not be empty/],
    ['/v1/chat/completions', JSON.stringify(chat({ model: 'gpt-4o' })), 404, /^model "gpt-4o" is not served here: use "tiny" or "default"/],
    ['/v1/completions', JSON.stringify({ model: 'tiny', prompt: 42 }), 400, /^prompt: /],
    ['/v1/completions', JSON.stringify({ model: '', prompt: 'x' }), 404, /^model "" is not served here/],
  ];
  for (const [path, body, status, message] of cases) {
    const got = await call('POST', path, body);
    assert.equal(got.status, status, body);
    assert.match(errorOf(got).message, message, body);
    assert.equal((await call('POST', '/v1/chat/completions', chat())).status, 200, `answers after ${body}`);
  }
  assert.equal(engine.asked.length, cases.length, 'only the good requests reached the engine');

  // 10 MB: refused by its declared length, and without one (chunked) once the limit is passed.
  const big = 'x'.repeat(10 << 20);
  const declared = await call('POST', '/v1/chat/completions', big);
  assert.equal(declared.status, 413);
  assert.equal(errorOf(declared).code, 'request_too_large');
  const chunked = await new Promise<Got>((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, method: 'POST', path: '/v1/chat/completions', headers: { authorization: `Bearer ${KEY}` } }, (res) => {
      let text = '';
      res.on('data', (d: Buffer) => (text += d.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text }));
    });
    req.on('error', reject);
    for (let i = 0; i < 10; i++) req.write(big.slice(0, 1 << 20));
    req.end();
  });
  assert.equal(chunked.status, 413);
  assert.equal((await call('POST', '/v1/chat/completions', chat())).status, 200, 'answers after 10 MB');
});

test('the line: one at a time, the bound waiting, the next a 429 with Retry-After; all answered once it moves', async (t) => {
  const { call, engine } = await start(t, { maxWaiting: 2 });
  let open!: () => void;
  engine.hold = new Promise<void>((r) => (open = r));
  const first = call('POST', '/v1/chat/completions', chat());
  while (engine.asked.length === 0) await new Promise((r) => setTimeout(r, 5));
  const waiting = [call('POST', '/v1/chat/completions', chat()), call('POST', '/v1/completions', { model: 'tiny', prompt: 'x' })];
  await new Promise((r) => setTimeout(r, 50));
  const refused = await call('POST', '/v1/chat/completions', chat());
  assert.equal(refused.status, 429);
  assert.equal(refused.headers['retry-after'], '1');
  const e = errorOf(refused);
  assert.equal(e.code, 'rate_limit_exceeded');
  assert.match(e.message, /^busy: 2 requests are already waiting/);
  open();
  for (const got of await Promise.all([first, ...waiting])) assert.equal(got.status, 200);
  assert.equal(engine.maxRunning, 1, 'never two in the engine at once');
  assert.equal((await call('POST', '/v1/chat/completions', chat())).status, 200);
});

test('a client that leaves mid-stream stops its generation; one that leaves while waiting leaves the line', async (t) => {
  const { call, engine, port } = await start(t, { maxWaiting: 4 });
  engine.tokens = Array.from({ length: 2000 }, (_, i) => ` w${i}`);
  /** A streamed request whose client hangs up at its first bytes (or at once: `now`). */
  const leave = (now = false): Promise<void> =>
    new Promise((resolve) => {
      const req = http.request({ host: '127.0.0.1', port, method: 'POST', path: '/v1/chat/completions', headers: { authorization: `Bearer ${KEY}` } }, (res) => {
        res.once('data', () => {
          req.destroy();
          resolve();
        });
      });
      req.on('error', () => undefined);
      req.end(JSON.stringify(chat({ stream: true, seed: now ? 99 : 1 })));
      if (now) setTimeout(() => {
        req.destroy();
        resolve();
      }, 50);
    });
  await leave();
  const deadline = Date.now() + 5000;
  while (engine.aborted === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
  assert.equal(engine.aborted, 1, 'the generation was stopped');

  engine.tokens = ['ok'];
  let open!: () => void;
  engine.hold = new Promise<void>((r) => (open = r));
  const running = call('POST', '/v1/chat/completions', chat());
  while (engine.asked.length < 2) await new Promise((r) => setTimeout(r, 5));
  await leave(true);
  open();
  assert.equal((await running).status, 200);
  assert.equal((await call('POST', '/v1/chat/completions', chat())).status, 200);
  assert.deepEqual(
    engine.asked.map((r) => r.seed),
    [1, null, null],
    'the request that left while waiting never reached the engine',
  );
});

test('a client that hangs up halfway through its body: no answer owed, nothing logged, the next request answered', async (t) => {
  const { call, port, logged, engine } = await start(t);
  await new Promise<void>((resolve) => {
    const req = http.request({ host: '127.0.0.1', port, method: 'POST', path: '/v1/chat/completions', headers: { authorization: `Bearer ${KEY}`, 'content-length': '1000' } });
    req.on('error', () => undefined);
    req.write('{"model": "tiny", ');
    setTimeout(() => {
      req.destroy();
      resolve();
    }, 50);
  });
  await new Promise((r) => setTimeout(r, 50));
  assert.equal((await call('POST', '/v1/chat/completions', chat())).status, 200);
  assert.deepEqual(logged, []);
  assert.equal(engine.asked.length, 1);
});

test('the engine fails: before a stream begins a 503, after it an error message in the stream and no [DONE]', async (t) => {
  const { call, engine } = await start(t);
  engine.failAt = 'start';
  const before = await call('POST', '/v1/chat/completions', chat({ stream: true }));
  assert.equal(before.status, 503);
  assert.match(errorOf(before).message, /^engine: loading tiny\.gguf: not a GGUF file$/);
  assert.equal(errorOf(before).code, 'engine_error');
  engine.failAt = 2;
  const during = await call('POST', '/v1/chat/completions', chat({ stream: true }));
  assert.equal(during.status, 200);
  const events = sseEvents(during.body);
  assert.notEqual(events.at(-1), '[DONE]');
  const last = JSON.parse(events.at(-1) ?? '') as { error: { message: string } };
  assert.match(last.error.message, /the GPU fell off the bus/);
  engine.failAt = null;
  engine.refuse = badRequest('the prompt is 900 tokens, but the model\'s context holds 512', 'messages', 'context_length_exceeded');
  const long = await call('POST', '/v1/chat/completions', chat({ stream: true }));
  assert.equal(long.status, 400);
  assert.equal(errorOf(long).code, 'context_length_exceeded');
  engine.refuse = null;
  engine.served = [];
  const none = await call('POST', '/v1/chat/completions', chat());
  assert.equal(none.status, 503);
  assert.equal(errorOf(none).code, 'model_not_loaded');
  assert.deepEqual(JSON.parse((await call('GET', '/v1/models')).body), { object: 'list', data: [] });
});

test('without an API the UI server has no /v1', async (t) => {
  const host = { handlers: {} as RequestHandlers, subscribe: () => () => undefined };
  const server = await LoopbackServer.start({ host, port: 0, rendererDir: tempDir('keymate-ui-') });
  t.after(() => server.close());
  const status = await new Promise<number>((resolve, reject) => {
    http.get({ host: '127.0.0.1', port: server.port, path: '/v1/models', headers: { authorization: `Bearer ${KEY}` } }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    }).on('error', reject);
  });
  assert.notEqual(status, 200);
});
