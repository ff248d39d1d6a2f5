// A remote engine as the app meets it: two real hosts in one process, A
// running stories260K and answering the OpenAI-compatible API on a loopback
// port, B pointed at A's API by its settings (or by the command line's
// --remote). A press on B is answered by A, with the same greedy text A gives
// its own press (the same persona and question, rendered by A's template),
// timed from the stream, recorded as the remote's; the conversation goes on
// across presses (A's prefix cache shows it), and one that outgrows A's
// context loses its oldest turns instead of failing. Switching back to the
// local engine is one settings change. A remote that refuses the key or is
// not there is one line, in the reply's error and in the remote's status.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { type TestContext, test } from 'node:test';

import type { Settings } from '../../../common/contract';
import { LoopbackServer } from '../../../electron/host/transport/ws-server';
import { REMOTE_KEY_FILE } from '../../../electron/host/remote/remote-key';
import { tempDir } from '../../support/repo';
import { freePort } from '../../support/serve';
import { QUICK, type Rig, startHost } from './support';

/** Host A: the local model, its API on a loopback port. */
async function remoteHost(t: TestContext, settings: Partial<Settings> = QUICK): Promise<{ rig: Rig; apiBase: string; key: string }> {
  const rig = await startHost(t, {}, settings);
  const server = await LoopbackServer.start({ host: rig.host, port: 0, rendererDir: tempDir('keymate-ui-'), api: rig.host.api.server });
  t.after(() => server.close());
  rig.host.api.servedAt(server.apiBase);
  return { rig, apiBase: server.apiBase, key: rig.host.api.apiKey.key };
}

async function press(rig: Rig, prompt: string) {
  const { press_id } = await rig.host.handlers.generate({ prompt }, undefined);
  const done = rig.next('reply.done', (d) => d.press_id === press_id);
  const error = rig.next('reply.error', (e) => e.press_id === press_id);
  return Promise.race([done, error.then((e) => assert.fail(`press ${press_id} failed: ${e.message}`))]);
}

async function failedPress(rig: Rig, prompt: string): Promise<string> {
  const { press_id } = await rig.host.handlers.generate({ prompt }, undefined);
  const error = await rig.next('reply.error', (e) => e.press_id === press_id);
  return error.message;
}

test('a press with a remote engine is answered by the remote, with its text, timed from the stream', { timeout: 120_000 }, async (t) => {
  const a = await remoteHost(t);
  const local = await press(a.rig, 'The dog');

  const b = await startHost(t, { model: null, env: { KEYMATE_REMOTE_API_KEY: a.key } }, { ...QUICK, remote: { enabled: true, url: a.apiBase, model: '' } });
  const status = await b.host.handlers['remote.check']({}, undefined);
  assert.deepEqual({ state: status.state, models: status.models, model: status.model, key: status.key }, { state: 'ready', models: ['stories260K'], model: 'stories260K', key: 'environment' });

  const remote = await press(b, 'The dog');
  assert.equal(remote.completion, local.completion);
  assert.ok(remote.completion.length > 0);
  assert.equal(remote.stop, local.stop);
  const timings = remote.timings;
  assert.ok(timings !== null);
  assert.ok(timings.ttft_ms > 0 && timings.ttft_ms < 30_000, `ttft ${timings.ttft_ms}`);
  assert.equal(timings.tokens, local.timings?.tokens, 'the tokens the remote counted');
  assert.equal(timings.prompt_tokens, local.timings?.prompt_tokens, "the prompt A's engine ran");
  assert.equal(timings.stages_ms, null);
  assert.ok(timings.e2e_ms >= timings.host_ms);

  const record = await b.next('performance');
  assert.equal(record.backend, 'remote');
  assert.equal(record.model, 'stories260K');
  const history = await b.next('history');
  assert.equal(history.completion, remote.completion);
  const turns = b.host.state().conversation.turns;
  assert.deepEqual(
    turns.map((x) => [x.role, x.text]),
    [
      ['user', 'The dog'],
      ['assistant', remote.completion],
    ],
  );

  // The conversation goes on: A gets the first exchange again, which its prefix cache holds.
  const second = await press(b, 'The cat');
  assert.ok((second.timings?.cached_tokens ?? 0) > (timings.prompt_tokens ?? 0), `cached ${second.timings?.cached_tokens}`);
  assert.ok((second.timings?.prompt_tokens ?? 0) > (timings.prompt_tokens ?? 0) + (timings.tokens ?? 0));
});

test('switching back to the local engine is one settings change, and the next press runs locally', { timeout: 120_000 }, async (t) => {
  const a = await remoteHost(t);
  const b = await startHost(t, { env: { KEYMATE_REMOTE_API_KEY: a.key } }, { ...QUICK, remote: { enabled: true, url: a.apiBase, model: 'stories260K' } });
  await press(b, 'The sun');
  assert.equal((await b.next('performance')).backend, 'remote');

  const off = await b.host.handlers['settings.set']({ patch: { remote: { enabled: false, url: a.apiBase, model: 'stories260K' } } }, undefined);
  assert.equal(off.remote.url, a.apiBase, 'the URL is kept for the next time');
  assert.equal(b.host.state().remote.state, 'off');
  await press(b, 'The sun');
  assert.equal((await b.next('performance')).backend, 'cpu');
});

test("a conversation over the remote model's context loses its oldest turns instead of failing", { timeout: 180_000 }, async (t) => {
  const a = await remoteHost(t);
  const context = a.rig.host.state().engine.backend?.context ?? 0;
  assert.ok(context > 0);
  const b = await startHost(t, { model: null, env: { KEYMATE_REMOTE_API_KEY: a.key } }, { ...QUICK, max_tokens: 64, remote: { enabled: true, url: a.apiBase, model: '' } });
  let said = 0;
  let largest = 0;
  // Enough presses that the whole conversation is well over the context.
  for (let i = 0; said < 2 * context; i++) {
    const r = await press(b, `Tell me about the ${i}th little bird and the big tree`);
    said += (r.timings?.prompt_tokens ?? 0) > 0 ? (r.timings?.tokens ?? 0) + 12 : 0;
    largest = Math.max(largest, r.timings?.prompt_tokens ?? 0);
    assert.ok(i < 200, 'the conversation should have outgrown the context by now');
  }
  assert.ok(largest < context, `every prompt fit: the largest was ${largest} of ${context}`);
  // The cut is kept, as for a local model: the user is told once, and later presses start from it.
  const conversation = b.host.state().conversation;
  assert.ok(conversation.context_from > 0, 'the conversation starts after its oldest turns');
  const notices = conversation.turns.filter((x) => x.role === 'notice');
  assert.equal(notices.length, 1);
  assert.match(notices[0]?.text ?? '', /no longer fits the remote model's context/);
});

test('a remote that refuses the key, or is not there, is one line in the reply and the status', { timeout: 120_000 }, async (t) => {
  const a = await remoteHost(t);
  const b = await startHost(t, { model: null, env: { KEYMATE_REMOTE_API_KEY: 'km-not-the-key-0000000000' } }, { ...QUICK, remote: { enabled: true, url: a.apiBase, model: '' } });
  const refused = await b.host.handlers['remote.check']({}, undefined);
  assert.equal(refused.state, 'error');
  assert.match(refused.message ?? '', /401.*wrong API key.*check the remote API key/);
  assert.doesNotMatch(refused.message ?? '', /\n/);
  const message = await failedPress(b, 'Hello');
  assert.match(message, /401/);
  assert.doesNotMatch(message, /\n/);
  assert.equal(b.host.state().session.state, 'error');

  const port = await freePort(); // nothing listens there
  await b.host.handlers['settings.set']({ patch: { remote: { enabled: true, url: `http://127.0.0.1:${port}`, model: '' } } }, undefined);
  const down = await failedPress(b, 'Hello');
  assert.match(down, new RegExp(`cannot reach http://127\\.0\\.0\\.1:${port}/v1: nothing is listening there`));
  const status = await b.host.handlers['remote.check']({}, undefined);
  assert.equal(status.state, 'error');
  assert.equal(status.url, `http://127.0.0.1:${port}/v1`);
});

test('the remote settings are checked and kept canonical; its key is saved apart, private, and the environment wins', { timeout: 60_000 }, async (t) => {
  const b = await startHost(t, { model: null, env: {} }, QUICK);
  const set = async (remote: Settings['remote']) => b.host.handlers['settings.set']({ patch: { remote } }, undefined);
  await assert.rejects(set({ enabled: true, url: '', model: '' }), /^Error: settings: remote: give the server's URL/);
  await assert.rejects(set({ enabled: false, url: 'ftp://box/v1', model: '' }), /^Error: settings: remote\.url: ftp: URLs are not supported/);
  await assert.rejects(set({ enabled: false, url: 'http://user:pw@box:8000/v1', model: '' }), /not in the URL/);
  assert.equal((await set({ enabled: false, url: ' http://box:8000 ', model: ' m ' })).remote.url, 'http://box:8000/v1');
  assert.equal((await set({ enabled: false, url: 'https://proxy.example/llm/v1/', model: '' })).remote.url, 'https://proxy.example/llm/v1');
  assert.equal(b.host.state().remote.state, 'off');

  const saved = await b.host.handlers['remote.key.set']({ key: 'sk-a-key-of-mine' }, undefined);
  assert.equal(saved.key, 'saved', 'told while the remote is off, for Settings to show');
  const file = path.join(b.home, REMOTE_KEY_FILE);
  assert.equal(fs.readFileSync(file, 'utf8'), 'sk-a-key-of-mine\n');
  if (process.platform !== 'win32') assert.equal(fs.statSync(file).mode & 0o777, 0o600);
  assert.ok(!fs.readFileSync(path.join(b.home, 'settings.json'), 'utf8').includes('sk-a-key'), 'the key is not in the settings');
  await assert.rejects(Promise.resolve().then(() => b.host.handlers['remote.key.set']({ key: 'two words' }, undefined)), /printable ASCII without spaces/);

  await set({ enabled: true, url: 'http://127.0.0.1:9/v1', model: '' });
  assert.equal(b.host.state().remote.key, 'saved');
  await b.host.handlers['remote.key.set']({ key: '' }, undefined);
  assert.equal(fs.existsSync(file), false);
  assert.equal(b.host.state().remote.key, 'none');

  const home = tempDir('keymate-host-');
  fs.writeFileSync(path.join(home, REMOTE_KEY_FILE), 'sk-saved\n', { mode: 0o600 });
  const c = await startHost(t, { model: null, home, env: { KEYMATE_REMOTE_API_KEY: 'sk-from-env' } }, {});
  assert.equal(c.host.state().remote.key, 'environment');
});
