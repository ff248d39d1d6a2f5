// The key-press session through the host's handlers, on the real engine with
// stories260K: the order of events for a press, the prefix cache on the
// second press, and the rapid-press policy (a press during a reply cancels
// it, its release does nothing, a generate while busy is refused).
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';

import { checkResponse, type RequestHandlers } from '../../../common/contract';
import { dispatch } from '../../../electron/host/transport/dispatch';
import { stories, tempDir } from '../../support/repo';
import { startHost } from './support';

test('a press: listening, thinking, replying, done; timings, history and performance recorded', async (t) => {
  const { host, events, of, next } = await startHost(t);
  const h = host.handlers;
  assert.equal((await h['key.press']({ source: 'screen' }, undefined)).state, 'listening');
  assert.equal((await h['key.release']({ source: 'screen' }, undefined)).state, 'thinking');
  const done = await next('reply.done');
  await next('performance');

  // A turn is announced once it is on disk, whenever that is: apart from the press's own order.
  const names = events.map((e) => e.name).filter((n) => n !== 'telemetry' && n !== 'engine' && n !== 'reply.token' && n !== 'conversation.turn');
  // The release's reply.start goes first; its key and session changes wait for the first token
  // or a frame (KeySession.sending); the session states stay in order either way.
  assert.deepEqual(names.slice(0, 8), ['key', 'session', 'reply.start', 'key', 'session', 'session', 'reply.done', 'session']);
  await next('conversation.turn', (e) => e.turn.role === 'assistant');
  assert.deepEqual(
    of('conversation.turn').map((e) => [e.index, e.turn.role]),
    [
      [0, 'user'],
      [1, 'assistant'],
    ],
    'the question, then the answer',
  );
  const firstToken = events.findIndex((e) => e.name === 'reply.token');
  assert.ok(firstToken > events.findIndex((e) => e.name === 'reply.start'), 'reply.start before any token');
  assert.deepEqual(of('session').map((s) => s.state), ['listening', 'thinking', 'replying', 'idle']);
  const start = of('reply.start')[0];
  assert.equal(start?.prompt, 'Once upon a time', 'nothing typed: the default prompt');
  assert.equal(start?.source, 'screen');

  const tokens = of('reply.token');
  assert.equal(tokens.map((x) => x.text).join(''), done.completion);
  // Each event carries `count` tokens from `index` on: together, every token once and in order.
  const indexes = tokens.flatMap((x) => Array.from({ length: x.count ?? 1 }, (_, i) => x.index + i));
  assert.deepEqual(indexes, [...indexes.keys()]);
  assert.equal(done.stop, 'length');
  const tm = done.timings;
  assert.ok(tm !== null);
  assert.equal(tm.tokens, 16);
  assert.ok(tm.ttft_ms > 0 && tm.e2e_ms >= tm.ttft_ms && tm.host_ms >= 0, JSON.stringify(tm));
  assert.ok(tm.prompt_tokens > 5);
  assert.equal(tm.link_ms, null, 'no keyboard: no link latency');

  const state = host.state();
  assert.equal(state.session.state, 'idle');
  assert.equal(state.reply?.text, done.completion);
  assert.equal(state.reply?.done, true);
  const history = await h['history.list']({}, undefined);
  assert.equal(history.entries[0]?.completion, done.completion);
  const perf = await h['performance.list']({ limit: 5 }, undefined);
  assert.deepEqual(perf.records[0]?.timings, tm);
});

test('the second press reuses the persona from the prefix cache', async (t) => {
  const { host, next } = await startHost(t);
  const h = host.handlers;
  const ids = [];
  for (const text of ['A dog', 'A cat']) {
    ids.push(h.generate({ prompt: text }, undefined));
    await next('reply.done');
  }
  await h['key.press']({ source: 'screen' }, undefined);
  await h['key.release']({ source: 'screen' }, undefined);
  const done = await next('reply.done');
  assert.ok(done.timings !== null);
  assert.ok(done.timings.cached_tokens > 0, `cached ${done.timings.cached_tokens} of ${done.timings.prompt_tokens}`);
  assert.ok(done.timings.cached_tokens < done.timings.prompt_tokens);
});

test('pressing during a reply cancels it; that release does nothing; nothing is queued', async (t) => {
  const { host, of, next } = await startHost(t, {}, { max_tokens: 400, temperature: 0, persona: 'Tell a story.', threads: 1 });
  const h = host.handlers;
  const { press_id } = await h.generate({ prompt: 'Once upon a time' }, undefined);
  await next('reply.token');
  assert.equal((await h['key.press']({ source: 'screen' }, undefined)).press_id, press_id);
  const done = await next('reply.done');
  assert.equal(done.press_id, press_id);
  assert.equal(done.stop, 'cancelled');
  assert.ok(done.timings !== null && done.timings.tokens < 400);
  await h['key.release']({ source: 'screen' }, undefined);
  await host.idle();
  assert.equal(of('reply.start').length, 1, 'the cancelling press started nothing');
  assert.equal(host.state().session.state, 'idle');
});

test('generate is refused while the key is held or a reply runs; a stray release is ignored', async (t) => {
  const { host, of, next } = await startHost(t);
  const h = host.handlers;
  assert.equal((await h['key.release']({ source: 'shortcut' }, undefined)).state, 'idle');
  await h['key.press']({ source: 'shortcut' }, undefined);
  await assert.rejects(Promise.resolve().then(() => h.generate({ prompt: 'x' }, undefined)), /generate: the AI key is held/);
  await h['key.press']({ source: 'screen' }, undefined); // a second source while held: ignored
  await h['key.release']({ source: 'shortcut' }, undefined);
  await assert.rejects(Promise.resolve().then(() => h.generate({ prompt: 'x' }, undefined)), /generate: a reply is in progress/);
  await next('reply.done');
  assert.equal(of('reply.start').length, 1);
  assert.deepEqual(await h.cancel({}, undefined), { cancelled: false });
});

test('without a model a press ends in the error state with the reason; the next press starts over', async (t) => {
  const { host, next } = await startHost(t, { model: null });
  const h = host.handlers;
  assert.equal(host.state().engine.state, 'none');
  await h['key.press']({ source: 'screen' }, undefined);
  await h['key.release']({ source: 'screen' }, undefined);
  const error = await next('reply.error');
  assert.match(error.message, /no model chosen: pick one in Settings/);
  assert.equal(host.state().session.state, 'error');
  assert.equal((await h['key.press']({ source: 'screen' }, undefined)).state, 'listening');
  assert.equal(host.state().session.message, null);
});

test('models: one listing of the command-line model and the library, with facts; a missing file is refused; selecting saves the choice', async (t) => {
  const home = tempDir('keymate-host-');
  fs.mkdirSync(path.join(home, 'models'));
  const copy = path.join(home, 'models', 'copy.gguf');
  fs.copyFileSync(stories(), copy);
  const { host } = await startHost(t, { home });
  const h = host.handlers;
  const listing = checkResponse('models.list', await h['models.list']({}, undefined));
  assert.deepEqual(
    listing.models.map((m) => [m.name, m.origin, m.selected, m.facts?.architecture, m.problem]),
    [
      ['stories260K', 'command-line', true, 'llama', null],
      ['copy', 'found', false, 'llama', null],
    ],
  );
  assert.equal(listing.models[0]?.facts?.parameters, listing.models[1]?.facts?.parameters, 'the same file read outside and inside the library');
  assert.deepEqual(listing.downloads, []);
  await assert.rejects(Promise.resolve().then(() => h['models.select']({ path: path.join(home, 'nope.gguf') }, undefined)), /models\.select: .*nope\.gguf: no such file/);
  const status = await h['models.select']({ path: copy }, undefined);
  assert.equal(status.state, 'ready');
  assert.equal(status.model?.path, copy);
  assert.equal(host.currentSettings().model, copy);
});

test('models: the settings model outside the library is listed with why it cannot be read; one inside it keeps its library origin', async (t) => {
  const home = tempDir('keymate-host-');
  fs.mkdirSync(path.join(home, 'models'));
  // A model chosen in the settings, replaced afterwards by a file cut short (a copy interrupted).
  // Replaced, not truncated in place: the engine may have the chosen file mapped.
  const broken = path.join(home, 'broken.gguf');
  fs.copyFileSync(stories(), broken);
  const { host } = await startHost(t, { home, model: null });
  await host.handlers['settings.set']({ patch: { model: broken } }, undefined);
  fs.writeFileSync(`${broken}.new`, fs.readFileSync(stories()).subarray(0, 4096));
  fs.renameSync(`${broken}.new`, broken);
  const outside = checkResponse('models.list', await host.handlers['models.list']({}, undefined)).models;
  assert.deepEqual(
    outside.map((m) => [m.name, m.origin, m.selected, m.facts, m.source]),
    [['broken', 'settings', true, null, null]],
  );
  assert.match(outside[0]?.problem ?? '', /broken\.gguf/);

  const inside = path.join(home, 'models', 'mine.gguf');
  fs.copyFileSync(stories(), inside);
  await host.handlers['settings.set']({ patch: { model: inside } }, undefined);
  const listed = checkResponse('models.list', await host.handlers['models.list']({}, undefined)).models;
  assert.deepEqual(
    listed.map((m) => [m.name, m.origin, m.selected]),
    [['mine', 'found', true]],
  );
});

test('a model that fails to load leaves the working one in place, and says why', async (t) => {
  const home = tempDir('keymate-host-');
  const bad = path.join(home, 'bad.gguf');
  fs.writeFileSync(bad, 'not a gguf at all');
  const { host } = await startHost(t, { home });
  await assert.rejects(Promise.resolve().then(() => host.handlers['models.select']({ path: bad }, undefined)), /bad\.gguf/);
  const engine = host.state().engine;
  assert.equal(engine.state, 'ready');
  assert.equal(engine.model?.path, stories());
});

test('a corrupt settings file at start: set aside, the defaults in use, and a notice in the state', async (t) => {
  const home = tempDir('keymate-host-');
  fs.writeFileSync(path.join(home, 'settings.json'), '{"format": "keymate-settings", "version": 1, "data": ');
  const { host } = await startHost(t, { home }, {});
  const notices = host.state().notices;
  assert.equal(notices.length, 1);
  assert.equal(notices[0]?.code, 'settings-corrupt');
  assert.match(notices[0]?.message ?? '', /settings: the file could not be used \(not valid JSON.*\); it was kept as .*settings\.json\.corrupt-/);
  assert.equal(fs.readdirSync(home).filter((n) => n.startsWith('settings.json.corrupt-')).length, 1);
  assert.equal(host.currentSettings().max_tokens, 128);
});

test('a key without releases (global shortcut, tray) taps: listen, send, and a tap during a reply cancels', async (t) => {
  const { host, of, next } = await startHost(t, {}, { max_tokens: 400, temperature: 0, persona: 'Tell a story.', threads: 1 });
  host.tap('shortcut');
  assert.equal(host.state().session.state, 'listening');
  host.tap('shortcut');
  assert.equal(host.state().session.state, 'thinking');
  await next('reply.token');
  host.tap('shortcut');
  const done = await next('reply.done');
  assert.equal(done.stop, 'cancelled');
  await host.idle();
  host.tap('shortcut');
  assert.equal(host.state().session.state, 'listening', 'the cancelling tap left no release behind to swallow the next one');
  host.tap('shortcut');
  await next('reply.done');
  assert.equal(of('reply.start').length, 2);
});

test('dispatch: the host end refuses malformed requests and its own malformed answers', async () => {
  const broken = { cancel: () => ({ cancelled: 'sometimes' }) } as unknown as RequestHandlers;
  assert.deepEqual(await dispatch(broken, 'cancel', {}, undefined), {
    ok: false,
    error: "contract: response 'cancel': field cancelled: expected boolean, got string (a bug in the host)",
  });
  assert.deepEqual(await dispatch(broken, 'cancel', { now: true }, undefined), { ok: false, error: "contract: request 'cancel': payload: unknown field now" });
  assert.deepEqual(await dispatch(broken, 'eval', {}, undefined), { ok: false, error: "contract: unknown request 'eval'" });
  const failing = { cancel: () => Promise.reject(new Error('cancel: the engine\nfell over')) } as unknown as RequestHandlers;
  assert.deepEqual(await dispatch(failing, 'cancel', {}, undefined), { ok: false, error: 'cancel: the engine fell over' });
});
