// The client of a remote OpenAI-compatible server against real HTTP servers
// on loopback that misbehave on purpose: base URLs as users type them, the
// event-stream parser fed at every byte boundary, the model list and the
// refusal bodies of the servers Keymate meets (OpenAI's, Ollama's, FastAPI's,
// none at all), nothing listening, a stream that ends early or whose socket
// dies, an error message mid-stream, a server gone silent before its headers
// or mid-stream, and the caller's abort. Every failure is a RemoteError (or
// the abort's own reason) whose message is one line.
import * as assert from 'node:assert/strict';
import * as http from 'node:http';
import { type TestContext, test } from 'node:test';

import { EventLines, OpenAiClient, RemoteError, normalizeBaseUrl } from '../../../../electron/host/remote/openai-client';
import { freePort } from '../../../support/serve';

type Handler = (req: http.IncomingMessage, res: http.ServerResponse, body: string) => void;

interface Seen {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/** An HTTP server on 127.0.0.1 answering with `handler` (after reading the body); closed when the test ends. */
async function server(t: TestContext, handler: Handler): Promise<{ base: string; seen: Seen[] }> {
  const seen: Seen[] = [];
  const s = http.createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (d: string) => (body += d));
    req.on('end', () => {
      seen.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body });
      handler(req, res, body);
    });
  });
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  t.after(() => {
    s.closeAllConnections();
    return new Promise<void>((resolve) => s.close(() => resolve()));
  });
  return { base: `http://127.0.0.1:${(s.address() as { port: number }).port}/v1`, seen };
}

/** Resolves when the client's side of `res` has gone (the connection closed before or after the answer). */
function closed(res: http.ServerResponse): Promise<void> {
  return new Promise((resolve) => res.once('close', () => resolve()));
}

function json(res: http.ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'Content-Type': 'application/json' });
  res.end(JSON.stringify(body));
}

/** Headers of an event stream, sent at once. */
function openStream(res: http.ServerResponse): void {
  res.writeHead(200, { 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-cache' });
  res.flushHeaders();
}

function chunk(content: string): string {
  return `data: ${JSON.stringify({ object: 'chat.completion.chunk', choices: [{ index: 0, delta: { content }, finish_reason: null }] })}\n\n`;
}

/** Asserts `e` is a RemoteError with a one-line message matching every pattern; returns it. */
function remoteError(e: unknown, status: number | null, ...patterns: RegExp[]): RemoteError {
  assert.ok(e instanceof RemoteError, `a RemoteError, got ${String(e)}`);
  assert.doesNotMatch(e.message, /[\n\r]/, `one line: ${JSON.stringify(e.message)}`);
  assert.equal(e.status, status, e.message);
  for (const p of patterns) assert.match(e.message, p);
  return e;
}

/** The error `work` rejects with (failing when it resolves). */
async function rejection(work: Promise<unknown>): Promise<unknown> {
  try {
    await work;
  } catch (e) {
    return e;
  }
  assert.fail('expected a rejection');
}

const stream = (client: OpenAiClient, signal = new AbortController().signal, onOpen?: () => void) => {
  const chunks: unknown[] = [];
  const done = client.stream('chat/completions', { model: 'm', messages: [{ role: 'user', content: 'hi' }] }, { onOpen, onChunk: (c) => chunks.push(c) }, signal);
  return { chunks, done };
};

test('normalizeBaseUrl: /v1 for a bare origin, a path kept, trailing slashes gone, whitespace trimmed', () => {
  const cases: [string, string][] = [
    ['http://gpu-box:8000', 'http://gpu-box:8000/v1'],
    ['http://gpu-box:8000/', 'http://gpu-box:8000/v1'],
    ['  https://gpu-box:8000  ', 'https://gpu-box:8000/v1'],
    ['http://gpu-box:8000/v1', 'http://gpu-box:8000/v1'],
    ['http://gpu-box:8000/v1/', 'http://gpu-box:8000/v1'],
    ['http://gpu-box:8000/v1///', 'http://gpu-box:8000/v1'],
    ['https://proxy.example/openai/api/', 'https://proxy.example/openai/api'],
    ['HTTP://GPU-Box:80/v1', 'http://gpu-box/v1'],
    ['http://[::1]:11434', 'http://[::1]:11434/v1'],
  ];
  for (const [typed, canonical] of cases) assert.equal(normalizeBaseUrl(typed), canonical, typed);
});

test('normalizeBaseUrl refuses other schemes, a query or fragment, credentials and garbage, each in one line', () => {
  const cases: [string, RegExp][] = [
    ['ftp://gpu-box/v1', /^ftp: URLs are not supported \(use http:\/\/ or https:\/\/\)$/],
    ['file:///etc/passwd', /^file: URLs are not supported/],
    ['http://gpu-box:8000/v1?key=abc', /must not have a query or a fragment/],
    ['http://gpu-box:8000/v1#models', /must not have a query or a fragment/],
    ['http://user:secret@gpu-box:8000/v1', /put the key in the API key field \(or KEYMATE_REMOTE_API_KEY\), not in the URL/],
    ['http://token@gpu-box:8000/v1', /not in the URL/],
    ['gpu-box:8000', /URLs are not supported/],
    ['not a url', /^"not a url" is not a URL \(expected something like http:\/\/gpu-box:8000\/v1\)$/],
    ['', /^"" is not a URL/],
    ['http://exa mple.com/v1\nsecond line', /is not a URL/],
    ['x'.repeat(500), /is not a URL/],
  ];
  for (const [typed, why] of cases) {
    assert.throws(
      () => normalizeBaseUrl(typed),
      (e: unknown) => {
        assert.ok(e instanceof Error);
        assert.doesNotMatch(e.message, /[\n\r]/, `one line for ${JSON.stringify(typed)}`);
        assert.match(e.message, why, JSON.stringify(typed));
        assert.ok(e.message.length < 200, `short: ${e.message}`);
        return true;
      },
    );
  }
});

// An event stream with everything a server may put in it: a comment, other
// fields, characters of 2 to 4 bytes, a message over two data lines, CRLF,
// "data:" without its space, a second space kept, [DONE].
const EVENTS =
  ': keep-alive\n\n' +
  'data: {"a":1}\n\n' +
  'event: message\nid: 7\nretry: 100\ndata: {"b":"é ü 漢字 🎹"}\n\n' +
  'data: first line\n: a comment between\ndata: second line\n\n' +
  'data:no space\r\n\r\n' +
  'data:  two spaces\r\n' +
  '\r\n' +
  'data: [DONE]\n\n';
const MESSAGES = ['{"a":1}', '{"b":"é ü 漢字 🎹"}', 'first line\nsecond line', 'no space', ' two spaces', '[DONE]'];

/** What EventLines makes of `pieces` of bytes, decoded as the client decodes a body. */
function parse(pieces: Uint8Array[]): string[] {
  const decoder = new TextDecoder();
  const lines = new EventLines();
  const out: string[] = [];
  for (const p of pieces) out.push(...lines.push(decoder.decode(p, { stream: true })));
  out.push(...lines.push(decoder.decode()));
  return out;
}

test('EventLines: the same messages however the bytes are cut (every one or two cuts, one byte at a time)', () => {
  const bytes = new TextEncoder().encode(EVENTS);
  assert.deepEqual(parse([bytes]), MESSAGES);
  for (let i = 0; i <= bytes.length; i++) {
    for (let j = i; j <= bytes.length; j++) {
      const got = parse([bytes.subarray(0, i), bytes.subarray(i, j), bytes.subarray(j)]);
      if (JSON.stringify(got) !== JSON.stringify(MESSAGES)) assert.deepEqual(got, MESSAGES, `cut at bytes ${i} and ${j}`);
    }
  }
  assert.deepEqual(parse(Array.from(bytes, (b) => Uint8Array.of(b))), MESSAGES);
});

test('EventLines: a message is complete only at its blank line; comments and other fields alone make none', () => {
  const lines = new EventLines();
  assert.deepEqual(lines.push('data: {"x":1}\n'), []);
  assert.deepEqual(lines.push('data: more'), []);
  assert.deepEqual(lines.push('\n'), []);
  assert.deepEqual(lines.push('\n'), ['{"x":1}\nmore']);
  assert.deepEqual(lines.push(': ping\n\n: ping\r\n\r\nevent: ping\nid: 3\n\n\n\n'), []);
  assert.deepEqual(lines.push('data:\n\n'), [''], 'an empty data line is an empty message');
  assert.deepEqual(lines.push('data: a\r\n\r\ndata: b\n\n'), ['a', 'b']);
});

test('models(): the ids in order, the key sent as a bearer token; none without a key; /v1 added to a bare origin', async (t) => {
  const { base, seen } = await server(t, (_req, res) =>
    json(res, 200, { object: 'list', data: [{ id: 'Qwen/Qwen3-8B', object: 'model' }, { id: 'llama3.2:1b' }, { object: 'model' }, { id: 7 }, null, { id: '' }, { id: 'last' }] }),
  );
  const client = new OpenAiClient({ baseUrl: base, apiKey: 'sk-secret' });
  assert.equal(client.baseUrl, base);
  assert.deepEqual(await client.models(), ['Qwen/Qwen3-8B', 'llama3.2:1b', 'last']);
  assert.equal(seen[0]?.method, 'GET');
  assert.equal(seen[0]?.url, '/v1/models');
  assert.equal(seen[0]?.headers.authorization, 'Bearer sk-secret');
  assert.equal(seen[0]?.headers.accept, 'application/json');

  await new OpenAiClient({ baseUrl: normalizeBaseUrl(base.replace(/\/v1$/, '')), apiKey: null }).models();
  assert.equal(seen[1]?.url, '/v1/models');
  assert.equal(seen[1]?.headers.authorization, undefined, 'no key, no Authorization');
  await new OpenAiClient({ baseUrl: base, apiKey: '' }).models();
  assert.equal(seen[2]?.headers.authorization, undefined, 'an empty key is none');
});

test('models(): an answer that is not JSON, or not a model list, says so in one line', async (t) => {
  let answer: () => [number, string] = () => [200, '<!doctype html>\n<html><body>Welcome to nginx!</body></html>\n'];
  const { base } = await server(t, (_req, res) => {
    const [status, body] = answer();
    res.writeHead(status, { 'Content-Type': 'text/html' });
    res.end(body);
  });
  const client = new OpenAiClient({ baseUrl: base, apiKey: 'k' });
  remoteError(await rejection(client.models()), 200, /answered with something that is not JSON/, /Welcome to nginx/);
  answer = () => [200, JSON.stringify({ models: ['a'] })];
  remoteError(await rejection(client.models()), 200, /did not answer with a model list/, /ends in \/v1/);
  answer = () => [200, 'null'];
  remoteError(await rejection(client.models()), 200, /did not answer with a model list/);
});

test('refusals: a bare 404 hints at /v1; OpenAI, Ollama and FastAPI error bodies give their message; 401 names the key', async (t) => {
  let answer: (res: http.ServerResponse) => void = (res) => {
    res.writeHead(404);
    res.end();
  };
  const { base } = await server(t, (_req, res) => answer(res));
  const client = new OpenAiClient({ baseUrl: base, apiKey: 'sk-wrong' });

  let e = remoteError(await rejection(client.models()), 404, /\/v1\/models answered 404 \(is http:\/\/127\.0\.0\.1:\d+\/v1 the API's base URL\? it usually ends in \/v1\)$/);
  assert.equal(e.code, null);

  answer = (res) => json(res, 401, { error: { message: 'Incorrect API key provided: sk-wrong.', type: 'invalid_request_error', param: null, code: 'invalid_api_key' } });
  e = remoteError(await rejection(client.models()), 401, /answered 401: Incorrect API key provided: sk-wrong\./, /check the remote API key: Settings, or KEYMATE_REMOTE_API_KEY/);
  assert.equal(e.code, 'invalid_api_key');
  e = remoteError(await rejection(stream(client).done), 401, /chat\/completions answered 401/, /KEYMATE_REMOTE_API_KEY/);

  answer = (res) => json(res, 403, { error: { message: 'forbidden', type: 'permission_error' } });
  e = remoteError(await rejection(client.models()), 403, /answered 403: forbidden/, /remote API key/);
  assert.equal(e.code, 'permission_error', 'the type when there is no code');

  // Ollama: {"error": "..."}.
  answer = (res) => json(res, 404, { error: 'model "llama9" not found, try pulling it first' });
  e = remoteError(await rejection(stream(client).done), 404, /answered 404: model "llama9" not found, try pulling it first$/);
  assert.equal(e.code, null);

  // FastAPI: {"detail": "..."}.
  answer = (res) => json(res, 400, { detail: 'This model\'s maximum context length is 2048 tokens.' });
  remoteError(await rejection(stream(client).done), 400, /answered 400: This model's maximum context length is 2048 tokens\.$/);
  // FastAPI's validation errors (a list of details): still one line with the status.
  answer = (res) => json(res, 422, { detail: [{ loc: ['body', 'messages'], msg: 'field required', type: 'value_error.missing' }] });
  remoteError(await rejection(stream(client).done), 422, /answered 422/);

  // A bare {"message"}, a message over several lines, a proxy's HTML page, a very long body.
  answer = (res) => json(res, 500, { message: 'internal\nerror\r\nhere' });
  remoteError(await rejection(client.models()), 500, /answered 500: internal\\x0aerror\\x0d\\x0ahere$/);
  answer = (res) => {
    res.writeHead(502, { 'Content-Type': 'text/html' });
    res.end('<html>\n<head><title>502 Bad Gateway</title></head>\n<body>nginx</body>\n</html>\n');
  };
  remoteError(await rejection(client.models()), 502, /answered 502: <html>.*502 Bad Gateway/);
  answer = (res) => json(res, 429, { error: { message: 'slow down '.repeat(200), code: 429 } });
  e = remoteError(await rejection(client.models()), 429, /answered 429: slow down/, /… \(\d+ more\)$/);
  assert.equal(e.code, '429', 'a numeric code as text');
  assert.ok(e.message.length < 500, `cut short: ${e.message.length} characters`);
});

test('nothing listening: "cannot reach" with ECONNREFUSED; a redirect is refused, not followed', async (t) => {
  const dead = `http://127.0.0.1:${await freePort()}/v1`;
  const client = new OpenAiClient({ baseUrl: dead, apiKey: 'k' });
  let e = remoteError(await rejection(client.models()), null, /^cannot reach http:\/\/127\.0\.0\.1:\d+\/v1: nothing is listening there \(ECONNREFUSED\): is the server running\?$/);
  assert.equal(e.code, 'unreachable');
  e = remoteError(await rejection(stream(client).done), null, /^cannot reach .*ECONNREFUSED/);
  assert.equal(e.code, 'unreachable');

  const { base, seen } = await server(t, (_req, res) => {
    res.writeHead(302, { Location: `${dead}/models` });
    res.end();
  });
  e = remoteError(await rejection(new OpenAiClient({ baseUrl: base, apiKey: 'k' }).models()), null, /redirect/);
  assert.equal(seen.length, 1, 'asked once, not followed');
});

test('a stream: the request as sent, onOpen once the headers come, every message in order, resolved at [DONE]', async (t) => {
  let opened = 0;
  const { base, seen } = await server(t, (_req, res) => {
    openStream(res);
    // Split mid-message and mid-character, across writes.
    const text = chunk('Once') + ': keep-alive\n\n' + chunk(' upon 🎹') + chunk(' a time') + 'data: [DONE]\n\n' + chunk('after done');
    const bytes = Buffer.from(text);
    let at = 0;
    const more = (): void => {
      if (at >= bytes.length) return void res.end();
      res.write(bytes.subarray(at, at + 7));
      at += 7;
      setImmediate(more);
    };
    more();
  });
  const client = new OpenAiClient({ baseUrl: base, apiKey: 'sk-1' });
  const { chunks, done } = stream(client, undefined, () => opened++);
  await done;
  assert.equal(opened, 1);
  assert.deepEqual(
    chunks.map((c) => (c as { choices: { delta: { content: string } }[] }).choices[0]?.delta.content),
    ['Once', ' upon 🎹', ' a time'],
    'nothing after [DONE]',
  );
  const r = seen[0];
  assert.equal(r?.method, 'POST');
  assert.equal(r?.url, '/v1/chat/completions');
  assert.equal(r?.headers.authorization, 'Bearer sk-1');
  assert.equal(r?.headers.accept, 'text/event-stream');
  assert.match(r?.headers['content-type'] ?? '', /^application\/json/);
  assert.deepEqual(JSON.parse(r?.body ?? ''), { model: 'm', messages: [{ role: 'user', content: 'hi' }], stream: true });

  // A text completion goes to /completions; [DONE] as the last bytes with no blank line after it is still [DONE].
  const text = await server(t, (_req, res) => {
    openStream(res);
    res.end(`data: ${JSON.stringify({ choices: [{ text: 'x' }] })}\n\ndata: [DONE]`);
  });
  const got: unknown[] = [];
  await new OpenAiClient({ baseUrl: text.base, apiKey: null }).stream('completions', { prompt: 'p' }, { onChunk: (c) => got.push(c) }, new AbortController().signal);
  assert.equal(text.seen[0]?.url, '/v1/completions');
  assert.deepEqual(got, [{ choices: [{ text: 'x' }] }]);
});

test('a stream that ends without [DONE] dropped mid-reply, after the messages that came', async (t) => {
  const { base } = await server(t, (_req, res) => {
    openStream(res);
    res.end(chunk('Once') + chunk(' upon'));
  });
  const { chunks, done } = stream(new OpenAiClient({ baseUrl: base, apiKey: 'k' }));
  const e = remoteError(await rejection(done), null, /^the connection to http:\/\/127\.0\.0\.1:\d+\/v1 dropped mid-reply \(the stream ended without \[DONE\]\)$/);
  assert.equal(e.code, 'dropped');
  assert.equal(chunks.length, 2);
});

test('a socket destroyed mid-stream dropped mid-reply', async (t) => {
  let destroy: () => void = () => assert.fail('no request yet');
  const { base } = await server(t, (req, res) => {
    openStream(res);
    res.write(chunk('Once'));
    destroy = () => req.socket.destroy();
  });
  const chunks: unknown[] = [];
  const done = new OpenAiClient({ baseUrl: base, apiKey: 'k' }).stream(
    'chat/completions',
    { messages: [] },
    {
      onChunk: (c) => {
        chunks.push(c);
        destroy();
      },
    },
    new AbortController().signal,
  );
  const e = remoteError(await rejection(done), null, /dropped mid-reply \(/);
  assert.equal(e.code, 'dropped');
  assert.equal(chunks.length, 1);
});

test('an error message mid-stream is a RemoteError with its message; a message that is not JSON too', async (t) => {
  let body = chunk('Once') + `data: ${JSON.stringify({ error: { message: 'CUDA error: out of memory\nat layer 3', type: 'server_error' } })}\n\n`;
  const { base } = await server(t, (_req, res) => {
    openStream(res);
    res.end(body);
  });
  const client = new OpenAiClient({ baseUrl: base, apiKey: 'k' });
  let s = stream(client);
  remoteError(await rejection(s.done), null, /failed mid-reply: CUDA error: out of memory\\x0aat layer 3$/);
  assert.equal(s.chunks.length, 1, 'the text before it was handed on');

  body = `data: ${JSON.stringify({ error: 'the engine stopped' })}\n\n`;
  s = stream(client);
  remoteError(await rejection(s.done), null, /failed mid-reply: the engine stopped$/);

  body = `data: ${JSON.stringify({ error: { code: 500 } })}\n\n`;
  remoteError(await rejection(stream(client).done), null, /failed mid-reply: \{"code":500\}$/);

  body = 'data: {"choices": [\n\n';
  remoteError(await rejection(stream(client).done), null, /sent a stream message that is not JSON \("\{\\"choices\\": \["\)/);
});

test('a server silent mid-stream past streamIdleMs: a timeout, and the connection closed', async (t) => {
  const gone: Promise<void>[] = [];
  const { base } = await server(t, (_req, res) => {
    gone.push(closed(res));
    openStream(res);
    res.write(chunk('Once'));
  });
  const client = new OpenAiClient({ baseUrl: base, apiKey: 'k', streamIdleMs: 200 });
  const startedAt = performance.now();
  const s = stream(client);
  const e = remoteError(await rejection(s.done), null, /sent nothing for 0\.2 s mid-reply; gave up on it$/);
  assert.equal(e.code, 'timeout');
  assert.ok(performance.now() - startedAt >= 190, 'not before streamIdleMs');
  assert.equal(s.chunks.length, 1);
  await gone[0];
});

test('headers slower than responseTimeoutMs: "did not answer within", and the connection closed', async (t) => {
  const gone: Promise<void>[] = [];
  const { base } = await server(t, (_req, res) => {
    gone.push(closed(res));
  });
  const client = new OpenAiClient({ baseUrl: base, apiKey: 'k', responseTimeoutMs: 200 });
  const startedAt = performance.now();
  const e = remoteError(await rejection(client.models()), null, /^http:\/\/127\.0\.0\.1:\d+\/v1 did not answer within 0\.2 s$/);
  assert.equal(e.code, 'timeout');
  assert.ok(performance.now() - startedAt >= 190, 'not before responseTimeoutMs');
  await gone[0];
  let opened = false;
  remoteError(await rejection(stream(client, undefined, () => (opened = true)).done), null, /did not answer within/);
  assert.equal(opened, false);
  await gone[1];
});

test("the caller's abort: mid-stream, before the headers, or before the request, rejects with the signal's reason and closes the connection", async (t) => {
  const gone: Promise<void>[] = [];
  let answer = true;
  let held: () => void = () => undefined;
  const holding = new Promise<void>((resolve) => (held = resolve));
  const { base, seen } = await server(t, (_req, res) => {
    gone.push(closed(res));
    if (!answer) return held();
    openStream(res);
    res.write(chunk('Once'));
  });
  const client = new OpenAiClient({ baseUrl: base, apiKey: 'k', responseTimeoutMs: 60_000, streamIdleMs: 60_000 });

  const controller = new AbortController();
  const reason = new Error('the user pressed the key again');
  const chunks: unknown[] = [];
  const done = client.stream('chat/completions', { messages: [] }, { onChunk: (c) => (chunks.push(c), controller.abort(reason)) }, controller.signal);
  assert.equal(await rejection(done), reason);
  assert.equal(chunks.length, 1);
  await gone[0];

  answer = false;
  const early = new AbortController();
  const waiting = stream(client, early.signal, () => assert.fail('no headers came'));
  // Abort once the server has the request and holds its headers back.
  await holding;
  early.abort('stop');
  assert.equal(await rejection(waiting.done), 'stop');
  await gone[1];
  assert.equal(await rejection(client.models(early.signal)), 'stop', 'an aborted signal: not even asked');
  assert.equal(seen.length, 2);
});
