// `keymate serve`'s OpenAI-compatible API as its users meet it: a real serve
// process with the real stories260K model (no chat template: the plain
// layout), asked by the official `openai` client and by raw fetch. The first
// stdout line gives url, api_base and api_key; the key lives in the data
// folder (0600) and is the same at the next start until --new-api-key;
// models.list(), a chat completion and the same request streamed (the same
// greedy text, usage filled), a text completion, a wrong key (401), 200
// requests at once (answered, or refused with 429 as docs/api.md says, the
// server alive after), hostile bodies (10 MB, invalid JSON, wrong types,
// negative max_tokens, unknown model) each answered with its 4xx and followed
// by a request that succeeds, and a stream's bytes on the wire.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, test } from 'node:test';

import OpenAI from 'openai';

import { stories, tempDir } from '../../../support/repo';
import { type Serve, serve as serveIn, stop } from '../../../support/serve';

/** `keymate serve` with stories260K. */
const serve = (home: string, extra: string[] = []): Promise<Serve> => serveIn(home, ['--model', stories(), ...extra]);

const home = tempDir('keymate-serve-api-');
let server: Serve;
let client: OpenAI;
const MODEL = 'stories260K';
const messages = [
  { role: 'system' as const, content: 'Tell a story.' },
  { role: 'user' as const, content: 'A dog and a cat' },
];

before(async () => {
  server = await serve(home);
  client = new OpenAI({ baseURL: server.line.api_base, apiKey: server.line.api_key, maxRetries: 0, timeout: 60_000 });
});

after(async () => {
  if (server !== undefined) await stop(server);
});

/** A raw request to the API with the right key unless told otherwise. */
function raw(route: string, body: string | ReadableStream<Uint8Array> | undefined, headers: Record<string, string> = {}): Promise<Response> {
  // A streamed body needs duplex "half" (not in @types/node 20's RequestInit yet).
  const init: RequestInit & { duplex?: 'half' } = {
    method: body === undefined ? 'GET' : 'POST',
    headers: { authorization: `Bearer ${server.line.api_key}`, 'content-type': 'application/json', ...headers },
    body,
    ...(body instanceof ReadableStream ? { duplex: 'half' } : {}),
  };
  return fetch(server.line.api_base + route, init);
}

/** A small chat that must succeed: the server still answers. */
async function stillAnswers(after: string): Promise<void> {
  const r = await client.chat.completions.create({ model: MODEL, messages, max_tokens: 4, temperature: 0 });
  assert.ok((r.choices[0]?.message.content ?? '').length > 0, `a reply after ${after}`);
}

test('the first line: url as before, api_base and api_key; the key kept in the data folder, private', async () => {
  const { line } = server;
  assert.deepEqual(Object.keys(line), ['url', 'api_base', 'api_key']);
  const url = new URL(line.url);
  assert.equal(url.hostname, '127.0.0.1');
  assert.ok((url.searchParams.get('token') ?? '').length >= 40);
  assert.equal(line.api_base, `http://127.0.0.1:${url.port}/v1`);
  assert.match(line.api_key, /^km-[A-Za-z0-9_-]{43}$/);
  const file = path.join(home, 'api-key');
  assert.equal(fs.readFileSync(file, 'utf8').trim(), line.api_key);
  if (process.platform !== 'win32') assert.equal(fs.statSync(file).mode & 0o777, 0o600);
  const deadline = Date.now() + 10_000;
  while (!server.stderr().includes('OpenAI-compatible API at') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  assert.match(server.stderr(), /OpenAI-compatible API at http:\/\/127\.0\.0\.1:\d+\/v1 \(its key .*api-key, made now\)/);
});

test('the openai client: models.list(), a chat completion, the same streamed (same greedy text), usage filled', { timeout: 120_000 }, async () => {
  const models = await client.models.list();
  assert.deepEqual(
    models.data.map((m) => [m.id, m.object, m.owned_by]),
    [[MODEL, 'model', 'keymate']],
  );
  assert.equal((await client.models.retrieve(MODEL)).id, MODEL);

  const whole = await client.chat.completions.create({ model: MODEL, messages, max_tokens: 40, temperature: 0 });
  const text = whole.choices[0]?.message.content ?? '';
  assert.ok(text.length > 0);
  assert.equal(whole.object, 'chat.completion');
  assert.equal(whole.model, MODEL);
  assert.ok(['stop', 'length'].includes(whole.choices[0]?.finish_reason ?? ''));
  const u = whole.usage;
  assert.ok(u !== undefined && u.prompt_tokens > 0 && u.completion_tokens > 0);
  assert.equal(u.total_tokens, u.prompt_tokens + u.completion_tokens);
  assert.equal(typeof u.prompt_tokens_details?.cached_tokens, 'number');

  const stream = await client.chat.completions.create({ model: MODEL, messages, max_tokens: 40, temperature: 0, stream: true, stream_options: { include_usage: true } });
  let streamed = '';
  let finish: string | null = null;
  let usage: OpenAI.CompletionUsage | null | undefined;
  for await (const chunk of stream) {
    streamed += chunk.choices[0]?.delta.content ?? '';
    finish = chunk.choices[0]?.finish_reason ?? finish;
    if (chunk.usage) usage = chunk.usage;
  }
  assert.equal(streamed, text, 'the same text streamed and whole');
  assert.equal(finish, whole.choices[0]?.finish_reason);
  assert.equal(usage?.completion_tokens, u.completion_tokens);
  assert.equal(usage?.prompt_tokens, u.prompt_tokens);
  assert.ok((usage?.prompt_tokens_details?.cached_tokens ?? 0) > 0, 'the same prompt again: read from the prefix cache');

  // The alias, and a stop sequence cut from the text.
  const cut = text.slice(3, 6);
  const stopped = await client.chat.completions.create({ model: 'default', messages, max_tokens: 40, temperature: 0, stop: [cut] });
  assert.equal(stopped.choices[0]?.message.content, text.slice(0, text.indexOf(cut)));
  assert.equal(stopped.choices[0]?.finish_reason, 'stop');
});

test('the openai client: a text completion, whole and streamed alike', { timeout: 60_000 }, async () => {
  const whole = await client.completions.create({ model: MODEL, prompt: 'Once upon a time', max_tokens: 24, temperature: 0 });
  const text = whole.choices[0]?.text ?? '';
  assert.ok(text.length > 0);
  let streamed = '';
  for await (const chunk of await client.completions.create({ model: MODEL, prompt: 'Once upon a time', max_tokens: 24, temperature: 0, stream: true })) {
    streamed += chunk.choices[0]?.text ?? '';
  }
  assert.equal(streamed, text);
});

test('a wrong key or none: 401, openai.AuthenticationError', async () => {
  for (const apiKey of ['km-wrong', server.line.api_key + 'x']) {
    const wrong = new OpenAI({ baseURL: server.line.api_base, apiKey, maxRetries: 0 });
    await assert.rejects(wrong.models.list(), (e: unknown) => e instanceof OpenAI.AuthenticationError && e.status === 401);
    await assert.rejects(wrong.chat.completions.create({ model: MODEL, messages }), OpenAI.AuthenticationError);
  }
  const none = await raw('/models', undefined, { authorization: '' });
  assert.equal(none.status, 401);
  const body = (await none.json()) as { error: { message: string; type: string; param: null; code: string } };
  assert.equal(body.error.code, 'invalid_api_key');
  assert.equal(none.headers.get('access-control-allow-origin'), null, 'no CORS');
});

test('200 requests at once: each answered or refused with 429 (Retry-After), the server alive after', { timeout: 240_000 }, async (t) => {
  const outcomes = await Promise.all(
    Array.from({ length: 200 }, (_, i) =>
      client.chat.completions
        .create({ model: MODEL, messages: [{ role: 'user', content: `Story ${i}` }], max_tokens: 3, temperature: 0 })
        .then(
          (r) => {
            assert.ok(r.usage !== undefined && r.usage.completion_tokens > 0);
            return 'ok';
          },
          (e: unknown) => {
            if (e instanceof OpenAI.RateLimitError) {
              assert.equal(e.status, 429);
              assert.equal(e.headers?.get('retry-after'), '1');
              return '429';
            }
            throw e;
          },
        ),
    ),
  );
  const ok = outcomes.filter((o) => o === 'ok').length;
  t.diagnostic(`200 at once: ${ok} answered, ${200 - ok} refused with 429`);
  assert.equal(ok + outcomes.filter((o) => o === '429').length, 200);
  // One runs and 16 wait (docs/api.md): at least those are answered.
  assert.ok(ok >= 17, `${ok} answered`);
  await stillAnswers('200 requests');
  // With the client's own retries (it honours Retry-After), a burst within the bound is all answered.
  const patient = new OpenAI({ baseURL: server.line.api_base, apiKey: server.line.api_key, maxRetries: 5 });
  const all = await Promise.all(Array.from({ length: 24 }, () => patient.completions.create({ model: MODEL, prompt: 'A', max_tokens: 2 })));
  assert.equal(all.length, 24);
});

test('hostile requests: the right 4xx each, and the next request answered', { timeout: 120_000 }, async () => {
  const tenMb = 'x'.repeat(10 << 20);
  const cases: [string, string, number, RegExp][] = [
    ['/chat/completions', tenMb, 413, /over the limit of 1048576 bytes/],
    ['/chat/completions', '{"model": "stories260K", "messages": [{"role": "user"', 400, /^invalid JSON/],
    ['/chat/completions', JSON.stringify({ model: MODEL, messages: 'hello' }), 400, /^messages: expected array, got string$/],
    ['/chat/completions', JSON.stringify({ model: MODEL, messages, temperature: 'warm' }), 400, /^temperature: expected number, got string$/],
    ['/chat/completions', JSON.stringify({ model: MODEL, messages, max_tokens: -1 }), 400, /^max_tokens: too small \(minimum 1\)$/],
    ['/completions', JSON.stringify({ model: MODEL, prompt: 'x', max_tokens: -10 }), 400, /^max_tokens: too small/],
    ['/chat/completions', JSON.stringify({ model: 'gpt-4o', messages }), 404, /^model "gpt-4o" is not served here/],
    ['/chat/completions', JSON.stringify({ model: MODEL, messages: [] }), 400, /^messages: must not be empty$/],
  ];
  for (const [route, body, status, message] of cases) {
    const r = await raw(route, body);
    const what = body.slice(0, 60);
    assert.equal(r.status, status, what);
    const e = ((await r.json()) as { error: { message: string } }).error;
    assert.match(e.message, message, what);
    await stillAnswers(what);
  }
  // 10 MB with no length (chunked): refused once 1 MiB is passed, not read to the end.
  let sent = 0;
  const chunk = new TextEncoder().encode('y'.repeat(64 * 1024));
  const body = new ReadableStream<Uint8Array>({
    pull(controller) {
      if (sent >= 10 << 20) controller.close();
      else {
        sent += chunk.length;
        controller.enqueue(chunk);
      }
    },
  });
  const r = await raw('/chat/completions', body);
  assert.equal(r.status, 413);
  await r.body?.cancel();
  await stillAnswers('10 MB chunked');
  // SDK-side type errors reach the server as they are: the openai client too gets a 400.
  await assert.rejects(
    client.chat.completions.create({ model: MODEL, messages, max_tokens: -1 }),
    (e: unknown) => e instanceof OpenAI.BadRequestError && /max_tokens/.test(e.message),
  );
  await assert.rejects(client.chat.completions.create({ model: 'nope', messages }), (e: unknown) => e instanceof OpenAI.NotFoundError);
});

test('a stream on the wire: data lines, blank-line separators, [DONE] last, the whole reply', { timeout: 60_000 }, async () => {
  const request = { model: MODEL, messages, max_tokens: 30, temperature: 0 };
  const whole = (await (await raw('/chat/completions', JSON.stringify(request))).json()) as { choices: { message: { content: string } }[] };
  const r = await raw('/chat/completions', JSON.stringify({ ...request, stream: true }));
  assert.equal(r.status, 200);
  assert.equal(r.headers.get('content-type'), 'text/event-stream; charset=utf-8');
  const bytes = await r.text();
  assert.ok(bytes.startsWith('data: {'), 'the first event at once, no preamble');
  assert.ok(bytes.endsWith('\n\ndata: [DONE]\n\n'), 'ends with [DONE] and a blank line');
  const events = bytes.slice(0, -2).split('\n\n');
  for (const e of events) assert.match(e, /^data: [^\n]+$/, 'each event one data line');
  assert.equal(events.at(-1), 'data: [DONE]');
  const chunks = events.slice(0, -1).map((e) => JSON.parse(e.slice(6)) as { object: string; choices: { delta: { role?: string; content?: string }; finish_reason: string | null }[] });
  assert.ok(chunks.every((c) => c.object === 'chat.completion.chunk'));
  assert.equal(chunks[0]?.choices[0]?.delta.role, 'assistant');
  assert.notEqual(chunks.at(-1)?.choices[0]?.finish_reason, null);
  assert.equal(chunks.map((c) => c.choices[0]?.delta.content ?? '').join(''), whole.choices[0]?.message.content);
});

test('the key is the same at the next start, new with --new-api-key; Ctrl-C stops serve cleanly', { timeout: 90_000 }, async () => {
  const key = server.line.api_key;
  assert.equal(await stop(server), 0);
  const again = await serve(home);
  assert.equal(again.line.api_key, key);
  const old = new OpenAI({ baseURL: again.line.api_base, apiKey: key, maxRetries: 0 });
  assert.equal((await old.models.list()).data.length, 1, 'a client set up once keeps working');
  assert.equal(await stop(again), 0);
  const renewed = await serve(home, ['--new-api-key']);
  server = renewed;
  assert.notEqual(renewed.line.api_key, key);
  assert.equal(fs.readFileSync(path.join(home, 'api-key'), 'utf8').trim(), renewed.line.api_key);
  await assert.rejects(new OpenAI({ baseURL: renewed.line.api_base, apiKey: key, maxRetries: 0 }).models.list(), OpenAI.AuthenticationError);
});
