// keymate serve --remote and keymate generate --remote as their users run
// them: two real serve processes with their own data folders, A running
// stories260K and B answering with A (its URL from A's first line, A's key in
// KEYMATE_REMOTE_API_KEY). Asked through B with the official `openai`
// client, A's model is listed and every greedy answer (chat whole and
// streamed, text completion) is the one A gives when asked directly, usage
// included; generate --remote gets the completion a local generate gets, timed
// from the stream. A remote not there, a wrong key, a URL that is not http and
// --remote-model alone are each one line (exit 1) or a usage error (exit 2);
// a serve whose remote refuses its key answers 503 and says so.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, test } from 'node:test';

import OpenAI from 'openai';

import { assertOneLineError, keymate, keymateJson } from '../../../support/cli';
import { stories, tempDir } from '../../../support/repo';
import { type Serve, freePort, serve, stop } from '../../../support/serve';

const MODEL = 'stories260K';
const messages = [
  { role: 'system' as const, content: 'Tell a story.' },
  { role: 'user' as const, content: 'A dog and a cat' },
];

let a: Serve;
let b: Serve;
/** Asks A directly. */
let direct: OpenAI;
/** Asks B, which passes the request on to A. */
let via: OpenAI;

const openai = (s: Serve, apiKey = s.line.api_key): OpenAI => new OpenAI({ baseURL: s.line.api_base, apiKey, maxRetries: 0, timeout: 60_000 });

before(async () => {
  a = await serve(tempDir('keymate-remote-a-'), ['--model', stories()]);
  b = await serve(tempDir('keymate-remote-b-'), ['--remote', a.line.api_base], { KEYMATE_REMOTE_API_KEY: a.line.api_key });
  direct = openai(a);
  via = openai(b);
});

after(async () => {
  const codes = await Promise.all([b, a].filter((s) => s !== undefined).map((s) => stop(s)));
  assert.deepEqual(codes, codes.map(() => 0), 'both stopped cleanly by Ctrl-C');
});

test("B's own key and port; its models are A's; B says on stderr where it sends requests", async () => {
  assert.notEqual(b.line.api_key, a.line.api_key, 'separate data folders, separate keys');
  assert.notEqual(b.line.api_base, a.line.api_base);
  const models = await via.models.list();
  assert.deepEqual(
    models.data.map((m) => m.id),
    [MODEL],
  );
  assert.equal((await via.models.retrieve(MODEL)).id, MODEL);
  assert.match(b.stderr(), new RegExp(`presses and API requests go to ${a.line.api_base.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`));
  // A's key is B's to send, not a key of B's own API.
  await assert.rejects(openai(b, a.line.api_key).models.list(), OpenAI.AuthenticationError);
});

test('a greedy chat completion through B is the one A gives: text, finish_reason, usage; streamed alike', { timeout: 120_000 }, async () => {
  const request = { model: MODEL, messages, max_tokens: 24, temperature: 0 };
  const fromA = await direct.chat.completions.create(request);
  const fromB = await via.chat.completions.create(request);
  const text = fromA.choices[0]?.message.content ?? '';
  assert.ok(text.length > 0);
  assert.equal(fromB.choices[0]?.message.content, text);
  assert.equal(fromB.choices[0]?.finish_reason, fromA.choices[0]?.finish_reason);
  assert.equal(fromB.model, MODEL);
  assert.equal(fromB.object, 'chat.completion');
  assert.equal(fromB.usage?.prompt_tokens, fromA.usage?.prompt_tokens);
  assert.equal(fromB.usage?.completion_tokens, fromA.usage?.completion_tokens);

  // The alias resolves to A's model on B.
  const byAlias = await via.chat.completions.create({ ...request, model: 'default' });
  assert.equal(byAlias.choices[0]?.message.content, text);

  let streamed = '';
  let finish: string | null = null;
  let usage: OpenAI.CompletionUsage | null | undefined;
  for await (const chunk of await via.chat.completions.create({ ...request, stream: true, stream_options: { include_usage: true } })) {
    streamed += chunk.choices[0]?.delta.content ?? '';
    finish = chunk.choices[0]?.finish_reason ?? finish;
    if (chunk.usage) usage = chunk.usage;
  }
  assert.equal(streamed, text);
  assert.equal(finish, fromA.choices[0]?.finish_reason);
  assert.equal(usage?.prompt_tokens, fromA.usage?.prompt_tokens);
  assert.equal(usage?.completion_tokens, fromA.usage?.completion_tokens);
  assert.ok((usage?.prompt_tokens_details?.cached_tokens ?? 0) > 0, "the same prompt again: A's prefix cache, reported through B");
});

test("B's /v1/completions is A's, whole and streamed; a stop sequence still cuts it", { timeout: 60_000 }, async () => {
  const request = { model: MODEL, prompt: 'Once upon a time', max_tokens: 20, temperature: 0 };
  const fromA = await direct.completions.create(request);
  const fromB = await via.completions.create(request);
  const text = fromA.choices[0]?.text ?? '';
  assert.ok(text.length > 0);
  assert.equal(fromB.choices[0]?.text, text);
  assert.equal(fromB.choices[0]?.finish_reason, fromA.choices[0]?.finish_reason);
  assert.equal(fromB.object, 'text_completion');
  assert.equal(fromB.usage?.completion_tokens, fromA.usage?.completion_tokens);
  let streamed = '';
  for await (const chunk of await via.completions.create({ ...request, stream: true })) streamed += chunk.choices[0]?.text ?? '';
  assert.equal(streamed, text);
  const cut = text.slice(4, 7);
  const stopped = await via.completions.create({ ...request, stop: [cut] });
  assert.equal(stopped.choices[0]?.text, text.slice(0, text.indexOf(cut)));
  assert.equal(stopped.choices[0]?.finish_reason, 'stop');
});

test('generate --remote gets the completion a local generate gets, backend "remote", timed from the stream', { timeout: 120_000 }, () => {
  const prompt = ['--prompt', 'Once upon a time, there was a', '--temperature', '0', '--max-tokens', '12'];
  const local = keymateJson(['generate', '--model', stories(), ...prompt]);
  const remote = keymateJson(['generate', '--remote', a.line.api_base, ...prompt], { KEYMATE_REMOTE_API_KEY: a.line.api_key });
  assert.equal(typeof local['completion'], 'string');
  assert.ok((local['completion'] as string).length > 0);
  assert.equal(remote['completion'], local['completion']);
  assert.equal(remote['tokens'], local['tokens']);
  assert.equal(remote['prompt_tokens'], local['prompt_tokens']);
  assert.equal(remote['backend'], 'remote');
  assert.equal(remote['remote'], a.line.api_base);
  assert.equal(remote['model'], MODEL);
  assert.ok(typeof remote['ttft_ms'] === 'number' && remote['ttft_ms'] > 0, `ttft_ms ${String(remote['ttft_ms'])}`);
  assert.ok(typeof remote['decode_tok_s'] === 'number' && remote['decode_tok_s'] > 0, `decode_tok_s ${String(remote['decode_tok_s'])}`);

  // Through B too (B's key for B): a chain of two.
  const chained = keymateJson(['generate', '--remote', b.line.api_base, ...prompt], { KEYMATE_REMOTE_API_KEY: b.line.api_key });
  assert.equal(chained['completion'], local['completion']);
});

test('generate --remote failures: nothing there, a wrong key (exit 1, one line); a URL not http, --remote-model alone (exit 2)', async () => {
  const prompt = ['--prompt', 'Hi', '--max-tokens', '4'];
  const dead = `http://127.0.0.1:${await freePort()}/v1`;
  assertOneLineError(keymate(['generate', '--remote', dead, ...prompt]), dead, /cannot reach .*ECONNREFUSED/);
  assertOneLineError(keymate(['generate', '--remote', a.line.api_base, ...prompt], { KEYMATE_REMOTE_API_KEY: 'km-wrong' }), 'KEYMATE_REMOTE_API_KEY', /answered 401: .*API key/);
  assertOneLineError(keymate(['generate', '--remote', a.line.api_base, ...prompt], { KEYMATE_REMOTE_API_KEY: '' }), 'KEYMATE_REMOTE_API_KEY', /answered 401: missing API key/);
  assertOneLineError(keymate(['generate', '--remote', a.line.api_base, '--remote-model', 'gpt-4o', ...prompt], { KEYMATE_REMOTE_API_KEY: a.line.api_key }), 'gpt-4o', /answered 404/);

  const usage = (args: string[], why: RegExp): void => {
    const r = keymate(args);
    assert.equal(r.status, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.equal(r.stdout, '');
    assert.match(r.stderr.split('\n')[0] ?? '', why);
    assert.match(r.stderr, /\nusage: keymate /);
  };
  usage(['generate', '--remote', 'ftp://x', ...prompt], /^keymate: generate: --remote: ftp: URLs are not supported/);
  usage(['generate', '--remote', 'http://x/v1?key=1', ...prompt], /^keymate: generate: --remote: the URL must not have a query/);
  usage(['generate', '--remote-model', MODEL, ...prompt], /^keymate: generate: --remote-model needs --remote BASE_URL$/);
  usage(['generate', '--remote', a.line.api_base, '--model', stories(), ...prompt], /^keymate: generate: give --model PATH or --remote BASE_URL, not both$/);
  usage(['serve', '--remote', 'ftp://x'], /^keymate: serve: --remote: ftp: URLs are not supported/);
  usage(['serve', '--remote-model', MODEL], /^keymate: serve: --remote-model needs --remote BASE_URL$/);
});

test('serve --remote with a wrong key: a chat completion through it is a 503 saying the remote refused the key (401)', { timeout: 60_000 }, async (t) => {
  const refused = (e: unknown): boolean => {
    assert.ok(e instanceof OpenAI.APIError, String(e));
    assert.equal(e.status, 503, e.message);
    assert.doesNotMatch(e.message, /\n/);
    assert.match(e.message, /remote engine: .*answered 401.*\(check the remote API key: Settings, or KEYMATE_REMOTE_API_KEY\)/);
    return true;
  };
  // The model named on the command line: the request goes to the remote, which refuses the key.
  const named = await serve(tempDir('keymate-remote-wrong-'), ['--remote', a.line.api_base, '--remote-model', MODEL], { KEYMATE_REMOTE_API_KEY: 'km-wrong' });
  t.after(() => stop(named));
  await assert.rejects(openai(named).chat.completions.create({ model: MODEL, messages, max_tokens: 4 }), refused);
  // No model named: B asks the remote which it serves, is refused, and must say that rather than "no model is loaded".
  const unnamed = await serve(tempDir('keymate-remote-wrong-'), ['--remote', a.line.api_base], { KEYMATE_REMOTE_API_KEY: 'km-wrong' });
  t.after(() => stop(unnamed));
  await assert.rejects(openai(unnamed).chat.completions.create({ model: 'default', messages, max_tokens: 4 }), refused);
});

test('serve --remote started before its remote: refused while nothing is there, answered once the remote is up', { timeout: 60_000 }, async (t) => {
  const port = await freePort();
  // The remote's key, chosen before it first starts (a key of one's own, written into its api-key file).
  const lateHome = tempDir('keymate-remote-late-');
  const key = 'km-chosen-key-for-the-late-remote';
  fs.writeFileSync(path.join(lateHome, 'api-key'), key + '\n', { mode: 0o600 });
  const early = await serve(tempDir('keymate-remote-early-'), ['--remote', `http://127.0.0.1:${port}/v1`], { KEYMATE_REMOTE_API_KEY: key });
  t.after(() => stop(early));
  const client = openai(early);
  await assert.rejects(client.chat.completions.create({ model: 'default', messages, max_tokens: 4 }), (e: unknown) => {
    assert.ok(e instanceof OpenAI.APIError && e.status === 503, String(e));
    assert.match(e.message, /ECONNREFUSED/, 'the remote is not there yet, and the answer says so');
    return true;
  });
  const late = await serve(lateHome, ['--port', String(port), '--model', stories()]);
  t.after(() => stop(late));
  assert.equal(late.line.api_key, key);
  const reply = await client.chat.completions.create({ model: 'default', messages, max_tokens: 4, temperature: 0 });
  assert.ok((reply.choices[0]?.message.content ?? '').length > 0);
  assert.deepEqual(
    (await client.models.list()).data.map((m) => m.id),
    [MODEL],
  );
});
