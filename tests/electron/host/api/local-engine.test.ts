// The API on the app's own engine (the real stories260K model, which has no
// chat template, so chats take the plain "User:/Assistant:" layout): a chat
// renders exactly as a key press's prompt does; a press and an API request in
// flight together each get their own whole reply, the press waiting its turn
// in a visible "thinking" state; the conversation's K/V is saved before a
// request replaces it; a prompt over the context is a 400.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as path from 'node:path';
import { type TestContext, test } from 'node:test';

import type { ReplyDone } from '../../../../common/contract';
import type { ChatCompletion } from '../../../../common/openai';
import type { CompletionEngine } from '../../../../electron/host/api/completion-engine';
import { chatParts } from '../../../../electron/host/api/local-engine';
import { OpenAiServer } from '../../../../electron/host/api/openai-server';
import { LoopbackServer } from '../../../../electron/host/transport/ws-server';
import { tempDir } from '../../../support/repo';
import { type Rig, startHost } from '../support';

const KEY = 'km-local-engine-test-key';
/** The press's persona (QUICK) and question, as a chat. */
const PERSONA = 'Tell a story.';

/**
 * The host with the API on a loopback server; `onDelta` (when set) sees each
 * piece of an API reply as the engine makes it, and `order` says when a
 * request's engine work ended ("api-done").
 */
async function withApi(t: TestContext): Promise<Rig & { port: number; hooks: { onDelta: (() => void) | null; order: string[] } }> {
  const rig = await startHost(t);
  const hooks: { onDelta: (() => void) | null; order: string[] } = { onDelta: null, order: [] };
  const local = rig.host.completions;
  const engine: CompletionEngine = {
    models: () => local.models(),
    complete: async (request, events, signal) => {
      const watched = {
        onStart: () => events.onStart(),
        onDelta: (d: { content: string; reasoning: string }) => {
          hooks.onDelta?.();
          events.onDelta(d);
        },
      };
      const outcome = await local.complete(request, watched, signal);
      hooks.order.push('api-done');
      return outcome;
    },
  };
  const api = new OpenAiServer({ engine, apiKey: KEY });
  const server = await LoopbackServer.start({ host: rig.host, port: 0, rendererDir: tempDir('keymate-ui-'), api });
  t.after(() => server.close());
  return { ...rig, port: server.port, hooks };
}

/** A chat completion; `onFirstBytes` runs when the response's first bytes arrive (a stream's first chunk). */
function ask(port: number, body: Record<string, unknown>, onFirstBytes?: () => void): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, method: 'POST', path: '/v1/chat/completions', headers: { authorization: `Bearer ${KEY}` } }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => {
        if (text === '') onFirstBytes?.();
        text += d;
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
    });
    req.on('error', reject);
    req.end(JSON.stringify(body));
  });
}

/** The reply of a chat, streamed or whole. */
function replyText(r: { status: number; text: string }, streamed: boolean): string {
  assert.equal(r.status, 200, r.text);
  if (!streamed) return (JSON.parse(r.text) as ChatCompletion).choices[0]?.message.content ?? '';
  const events = r.text.split('\n\n').filter((e) => e !== '');
  assert.equal(events.at(-1), 'data: [DONE]');
  return events
    .slice(0, -1)
    .map((e) => (JSON.parse(e.slice('data: '.length)) as { choices: { delta: { content?: string } }[] }).choices[0]?.delta.content ?? '')
    .join('');
}

const story = (extra: Record<string, unknown> = {}) => ({
  model: 'default',
  messages: [
    { role: 'system', content: PERSONA },
    { role: 'user', content: 'A dog' },
  ],
  temperature: 0,
  ...extra,
});

/** A press in a new conversation (so its prompt is always the same); resolves with its press id once sent. */
async function press(rig: Rig, prompt: string): Promise<string> {
  await rig.host.handlers['conversation.new']({}, undefined);
  const { press_id } = await rig.host.handlers.generate({ prompt }, undefined);
  return press_id;
}

function doneOf(rig: Rig, id: string): Promise<ReplyDone> {
  return rig.next('reply.done', (d) => d.press_id === id, 60_000);
}

test('chat messages as the prompt builder takes them: system messages the persona, the last the text', () => {
  assert.deepEqual(
    chatParts([
      { role: 'system', content: 'A' },
      { role: 'user', content: 'q1' },
      { role: 'assistant', content: 'a1' },
      { role: 'system', content: 'B' },
      { role: 'user', content: 'q2' },
    ]),
    {
      persona: 'A\n\nB',
      history: [
        { role: 'user', content: 'q1' },
        { role: 'assistant', content: 'a1' },
      ],
      text: 'q2',
    },
  );
  assert.throws(() => chatParts([{ role: 'user', content: 'q' }, { role: 'assistant', content: 'a' }]), /the last message must be the user's/);
});

test('a chat renders as a key press does: the same prompt, the same greedy reply', { timeout: 120_000 }, async (t) => {
  const rig = await withApi(t);
  const id = await press(rig, 'A dog');
  const done = await doneOf(rig, id);
  assert.ok(done.completion.length > 0);
  const r = await ask(rig.port, story({ max_tokens: 16 }));
  const body = JSON.parse(r.text) as ChatCompletion;
  assert.equal(body.choices[0]?.message.content, done.completion);
  assert.equal(body.usage.prompt_tokens, done.timings?.prompt_tokens);
  assert.equal(body.usage.completion_tokens, done.timings?.tokens);
  assert.equal(body.model, 'stories260K');
  const models = await new Promise<string>((resolve, reject) =>
    http.get({ host: '127.0.0.1', port: rig.port, path: '/v1/models', headers: { authorization: `Bearer ${KEY}` } }, (res) => {
      let text = '';
      res.on('data', (d: Buffer) => (text += d.toString()));
      res.on('end', () => resolve(text));
    }).on('error', reject),
  );
  assert.deepEqual((JSON.parse(models) as { data: { id: string }[] }).data.map((m) => m.id), ['stories260K']);
});

test('a press and an API request in flight together: each gets its own whole reply, in turn', { timeout: 180_000 }, async (t) => {
  const rig = await withApi(t);
  const apiBody = story({ max_tokens: 64, stream: true, messages: [{ role: 'user', content: 'A cat and a bird' }] });
  // Each alone first: what each must get when they overlap.
  const alone = replyText(await ask(rig.port, apiBody), true);
  const pressAlone = (await doneOf(rig, await press(rig, 'A dog'))).completion;
  assert.ok(alone.length > 0 && pressAlone.length > 0);
  const pressTokens = new Set<string>();
  rig.host.subscribe((name, payload) => {
    const p = payload as { press_id?: string };
    if (name === 'reply.token' && p.press_id !== undefined && !pressTokens.has(p.press_id)) {
      pressTokens.add(p.press_id);
      rig.hooks.order.push(`press-token ${p.press_id}`);
    }
  });

  // The API request first; a press made while the engine writes its reply waits its turn, visibly busy.
  let pressed: Promise<string> | null = null;
  let stateWhileWaiting = '';
  rig.hooks.onDelta = () => {
    rig.hooks.onDelta = null;
    pressed = press(rig, 'A dog').then((id) => {
      stateWhileWaiting = rig.host.state().session.state;
      return id;
    });
  };
  rig.hooks.order.length = 0;
  const text1 = replyText(await ask(rig.port, apiBody), true);
  assert.ok(pressed !== null, 'the press was made while the engine wrote the reply');
  const id1 = await (pressed as Promise<string>);
  const done1 = await doneOf(rig, id1);
  assert.equal(text1, alone, 'the API reply is whole and its own');
  assert.equal(done1.completion, pressAlone, "the press's reply is whole and its own");
  assert.equal(
    rig.of('reply.token').filter((e) => e.press_id === id1).map((e) => e.text).join(''),
    pressAlone,
    "the tokens the UI got for the press are the press's",
  );
  assert.equal(stateWhileWaiting, 'thinking', 'the press shows it is waiting for the engine');
  assert.deepEqual(rig.hooks.order, ['api-done', `press-token ${id1}`], 'the press ran after the request, not within it');

  // The press first; an API request made while the press's reply streams waits for it.
  rig.hooks.order.length = 0;
  const id2 = await press(rig, 'A dog');
  await rig.next('reply.token', (e) => e.press_id === id2);
  const text2 = replyText(await ask(rig.port, { ...apiBody, stream: false }), false);
  const done2 = await doneOf(rig, id2);
  assert.equal(text2, alone);
  assert.equal(done2.completion, pressAlone);
  assert.deepEqual(rig.hooks.order, [`press-token ${id2}`, 'api-done']);
  assert.notEqual(rig.host.state().session.state, 'error');
  // The press's conversation had the engine's K/V: it was saved before the request replaced it.
  const conversation = rig.host.state().conversation.id;
  assert.ok(fs.existsSync(path.join(rig.home, 'kv', `${conversation}.kmkv`)), "the conversation's K/V file was written");
});

test('a prompt over the model\'s context is a 400 naming the sizes; the next request is answered', { timeout: 120_000 }, async (t) => {
  const rig = await withApi(t);
  const long = await ask(rig.port, story({ messages: [{ role: 'user', content: 'dog '.repeat(3000) }] }));
  assert.equal(long.status, 400);
  const e = (JSON.parse(long.text) as { error: { message: string; code: string; param: string } }).error;
  assert.match(e.message, /^the prompt is \d+ tokens, but the model's context holds 512 \(one more is needed to reply\)$/);
  assert.equal(e.code, 'context_length_exceeded');
  assert.equal(e.param, 'messages');
  assert.equal((await ask(rig.port, story({ max_tokens: 4 }))).status, 200);
});
