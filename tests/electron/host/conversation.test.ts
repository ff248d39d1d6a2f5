// Presses continue a conversation (the real stories260K model, context 512):
// each adds a question and its reply, a new turn prefills only its own tokens,
// the conversation outlives a restart, a long one drops its oldest turns
// instead of failing, and a double tap of the key starts a new one.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';

import { DOUBLE_TAP_MS } from '../../../electron/host/session/key-session';
import { QUICK, startHost } from './support';

test('two presses: two questions and two replies; the second reads the first from the cache', async (t) => {
  const { host, next } = await startHost(t);
  const h = host.handlers;
  await h.generate({ prompt: 'A dog' }, undefined);
  const first = await next('reply.done');
  await h.generate({ prompt: 'A cat' }, undefined);
  const second = await next('reply.done');
  assert.ok(first.timings !== null && second.timings !== null);
  assert.ok(
    second.timings.cached_tokens >= first.timings.prompt_tokens,
    `second press: ${second.timings.cached_tokens} cached, first prompt ${first.timings.prompt_tokens} tokens`,
  );
  await next('conversation.turn', (e) => e.index === 3);
  const c = (await h['conversation.get']({}, undefined));
  assert.deepEqual(c.turns.map((x) => x.role), ['user', 'assistant', 'user', 'assistant']);
  assert.deepEqual([c.turns[0]!.text, c.turns[2]!.text], ['A dog', 'A cat']);
  assert.equal(c.turns[1]!.text, first.completion);
  assert.equal(c.turns[3]!.cached_tokens, second.timings.cached_tokens);
  assert.equal(c.title, 'A dog');
});

test('after a restart with the same data folder the conversation is there, and a press continues it', async (t) => {
  const a = await startHost(t);
  await a.host.handlers.generate({ prompt: 'A dog' }, undefined);
  const before = await a.next('reply.done');
  await a.next('conversation.turn', (e) => e.index === 1);
  await a.host.stop();

  const b = await startHost(t, { home: a.home }, {});
  const kept = b.host.state().conversation;
  assert.deepEqual(kept.turns.map((x) => x.text), ['A dog', before.completion]);
  await b.host.handlers.generate({ prompt: 'A cat' }, undefined);
  const after = await b.next('reply.done');
  assert.ok(after.timings !== null && before.timings !== null);
  assert.ok(after.timings.prompt_tokens > before.timings.prompt_tokens + 2, 'the new prompt holds the first exchange');
  // The K/V was saved when the host stopped and loaded back: only the new press is prefilled.
  assert.ok(after.timings.cached_tokens >= before.timings.prompt_tokens, `after the restart ${after.timings.cached_tokens} cached of ${after.timings.prompt_tokens}`);
  await b.next('conversation.turn', (e) => e.index === 3);
  assert.equal(b.host.state().conversation.id, kept.id);
});

test('six presses of 128-token replies run past the 512-token context: every press gets a reply, the user is told once', async (t) => {
  const { host, next } = await startHost(t, {}, { ...QUICK, max_tokens: 128 });
  const h = host.handlers;
  for (let i = 0; i < 6; i++) {
    await h.generate({ prompt: `Tell me about the ${['dog', 'cat', 'fox', 'owl', 'bee', 'elk'][i]}` }, undefined);
    const done = await next('reply.done');
    assert.ok(done.completion.length > 0, `press ${i + 1} got no reply`);
    assert.ok(done.timings !== null && done.timings.tokens > 0);
    assert.notEqual(host.state().session.state, 'error', host.state().session.message ?? '');
  }
  await host.idle();
  const c = (await h['conversation.get']({}, undefined));
  assert.ok(c.context_from > 0, 'the oldest turns left the model\'s view');
  assert.equal(c.turns.filter((x) => x.role === 'notice').length, 1, 'told once');
  assert.equal(c.turns.filter((x) => x.role === 'user').length, 6, 'nothing the user said is deleted');
});

test('a double tap of the key starts a new conversation and takes the first tap back', async (t) => {
  const { host, next } = await startHost(t);
  const h = host.handlers;
  await h.generate({ prompt: 'A dog' }, undefined);
  await next('reply.done');
  await next('conversation.turn', (e) => e.index === 1);
  const old = host.state().conversation.id;
  await h['key.press']({ source: 'screen' }, undefined);
  await h['key.release']({ source: 'screen' }, undefined);
  await h['key.press']({ source: 'screen' }, undefined);
  const fresh = await next('conversation', (c) => c.id !== old);
  assert.deepEqual(fresh.turns, []);
  await h['key.release']({ source: 'screen' }, undefined);
  await host.idle();
  assert.equal(host.state().session.state, 'idle');
  const list = (await h['conversations.list']({}, undefined)).conversations;
  assert.deepEqual(list.find((c) => c.id === old)?.turns, 2, 'the first tap\'s question and reply are taken back');
  // A press after the window is a press: it continues the new conversation.
  await new Promise((r) => setTimeout(r, DOUBLE_TAP_MS + 50));
  await h['key.press']({ source: 'screen' }, undefined);
  await h['key.release']({ source: 'screen' }, undefined);
  await next('reply.done');
  await next('conversation.turn', (e) => e.conversation_id === fresh.id && e.index === 1);
  assert.equal(host.state().conversation.turns.length, 2);
});

test('a new conversation or another one is refused while a reply runs', async (t) => {
  const { host, next } = await startHost(t, {}, { ...QUICK, max_tokens: 400 });
  const h = host.handlers;
  await h.generate({ prompt: 'Once upon a time' }, undefined);
  await next('reply.token');
  await assert.rejects(Promise.resolve().then(() => h['conversation.new']({}, undefined)), /new conversation: a reply is in progress/);
  await h.cancel({}, undefined);
  await next('reply.done');
  const c = await h['conversation.new']({}, undefined);
  assert.equal(host.state().conversation.id, c.id);
});

test('a swipe writes the last reply again from the cache, keeps every version, and the model reads the chosen one', async (t) => {
  const { host, next } = await startHost(t, {}, { ...QUICK, temperature: 1, seed: 7 });
  const h = host.handlers;
  await h.generate({ prompt: 'A dog' }, undefined);
  const first = await next('reply.done');
  await next('conversation.turn', (e) => e.index === 1);
  await h['conversation.regenerate']({}, undefined);
  const again = await next('reply.done');
  const swiped = await next('conversation', (c) => c.turns[1]?.versions?.length === 2);
  assert.ok(first.timings !== null && again.timings !== null);
  assert.equal(again.timings.prompt_tokens, first.timings.prompt_tokens, 'the same question, the same prompt');
  assert.equal(again.timings.cached_tokens, again.timings.prompt_tokens - 1, 'only the last prompt token is run again');
  assert.equal(swiped.turns.length, 2, 'a swipe adds no turn');
  assert.deepEqual(swiped.turns[1]!.versions!.map((v) => v.text), [first.completion, again.completion]);
  assert.equal(swiped.turns[1]!.chosen, 1);

  const back = await h['conversation.choose']({ version: 0 }, undefined);
  assert.equal(back.turns[1]!.text, first.completion);
  await assert.rejects(Promise.resolve().then(() => h['conversation.choose']({ version: 5 }, undefined)), /choose: the reply has 2 versions, not 6/);
  // The next press continues from the chosen version: its prompt starts with the first reply.
  await h.generate({ prompt: 'A cat' }, undefined);
  const third = await next('reply.done');
  assert.ok(third.timings !== null && third.timings.cached_tokens >= first.timings.prompt_tokens);
});

test('a branch starts a new conversation from the turns up to a point; rename, export, delete and undo', async (t) => {
  const { host, next } = await startHost(t);
  const h = host.handlers;
  for (const prompt of ['A dog', 'A cat']) {
    await h.generate({ prompt }, undefined);
    await next('reply.done');
  }
  await next('conversation.turn', (e) => e.index === 3);
  const trunk = host.state().conversation;
  const branch = await h['conversation.branch']({ id: trunk.id, turns: 2 }, undefined);
  assert.notEqual(branch.id, trunk.id);
  assert.deepEqual(branch.turns, trunk.turns.slice(0, 2));
  assert.deepEqual(branch.branched_from, { id: trunk.id, turns: 2 });
  assert.equal(host.state().conversation.id, branch.id);
  await h.generate({ prompt: 'A fox' }, undefined);
  const done = await next('reply.done');
  assert.ok(done.timings !== null && done.timings.cached_tokens > 0, 'the shared start is still in the cache');

  assert.equal((await h['conversation.rename']({ id: trunk.id, title: 'Pets' }, undefined)).title, 'Pets');
  assert.deepEqual((await h['conversations.list']({ query: 'pets' }, undefined)).conversations.map((c) => c.id), [trunk.id]);
  assert.deepEqual((await h['conversations.list']({ query: 'a fox' }, undefined)).conversations.map((c) => c.id), [branch.id], 'search reads the turns too');
  const md = await h['conversation.export']({ id: trunk.id, format: 'markdown' }, undefined);
  assert.equal(md.file_name, 'keymate-pets.md');
  assert.match(md.text, /^# Pets\n/);
  assert.match(md.text, /\*\*You\*\*\n\n> A dog\n/);
  const json = await h['conversation.export']({ id: trunk.id, format: 'json' }, undefined);
  const written = JSON.parse(json.text) as typeof trunk;
  assert.equal(json.file_name, 'keymate-pets.json');
  assert.deepEqual({ ...written }, { ...trunk, title: 'Pets' }, 'every field, as saved');

  await h['conversation.delete']({ id: trunk.id }, undefined);
  assert.deepEqual((await h['conversations.list']({}, undefined)).conversations.map((c) => c.id), [branch.id]);
  await h['conversation.restore']({ id: trunk.id }, undefined);
  assert.equal((await h['conversations.list']({}, undefined)).conversations.length, 2);
  // Deleting the current conversation makes another current.
  await h['conversation.delete']({ id: branch.id }, undefined);
  assert.equal(host.state().conversation.id, trunk.id);
});

test('switching conversations keeps each one\'s cache: coming back prefills only the new press; a bad cache file is dropped', async (t) => {
  const { host, next, home } = await startHost(t);
  const h = host.handlers;
  await h.generate({ prompt: 'A dog' }, undefined);
  await next('reply.done');
  await h.generate({ prompt: 'A cat' }, undefined);
  const second = await next('reply.done');
  const a = host.state().conversation.id;
  await h['conversation.new']({}, undefined);
  await h.generate({ prompt: 'Something else entirely' }, undefined);
  await next('reply.done');
  const b = host.state().conversation.id;
  assert.ok(fs.existsSync(path.join(home, 'kv', `${a}.kmkv`)), 'the first conversation\'s K/V was saved when it was left');

  await h['conversation.open']({ id: a }, undefined);
  await h.generate({ prompt: 'A fox' }, undefined);
  const back = await next('reply.done');
  assert.ok(second.timings !== null && back.timings !== null);
  assert.ok(back.timings.cached_tokens >= second.timings.prompt_tokens, `back in the first: ${back.timings.cached_tokens} cached, its last prompt ${second.timings.prompt_tokens}`);

  // The second conversation's file, damaged: not used, removed, and the press is answered all the same.
  const bFile = path.join(home, 'kv', `${b}.kmkv`);
  assert.ok(fs.existsSync(bFile));
  const bytes = fs.readFileSync(bFile);
  bytes[bytes.length - 20] = (bytes[bytes.length - 20] ?? 0) ^ 0xff;
  fs.writeFileSync(bFile, bytes);
  await h['conversation.open']({ id: b }, undefined);
  await h.generate({ prompt: 'And then?' }, undefined);
  const damaged = await next('reply.done');
  assert.ok(damaged.completion.length > 0);
  assert.equal(fs.existsSync(bFile), false, 'a file that cannot load is removed');
});
