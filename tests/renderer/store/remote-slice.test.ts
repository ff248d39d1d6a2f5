// The remote engine's slice: a check takes the host's status (a server that
// does not answer is a status, a host that refuses is an error line), a key
// is sent once and never kept, and who answers follows the settings' switch
// even before the status catches up (and a server the command line chose).
import * as assert from 'node:assert/strict';
import { test } from 'node:test';

import { DEFAULT_SETTINGS, type Settings } from '../../../common/contract';
import { needsFirstRun } from '../../../renderer/store/models-slice';
import { remoteAnswer, remoteKeyWords, urlHost } from '../../../renderer/store/remote-slice';
import { createUiStore } from '../../../renderer/store/store';
import { FakeHost, engineStatus, remoteStatus, tick } from '../fake-host';

const URL_ = 'http://gpu-box:8000/v1';
const on = (over: Partial<Settings['remote']> = {}): Settings => ({ ...DEFAULT_SETTINGS, remote: { enabled: true, url: URL_, model: '', ...over } });

test('a check takes the status the host answers, and says it is checking meanwhile', async () => {
  let answer: (s: ReturnType<typeof remoteStatus>) => void = () => undefined;
  const h = new FakeHost().handle('remote.check', () => new Promise((r) => (answer = r)));
  const s = createUiStore(h).getState;
  assert.equal(s().remote, null);
  const pending = s().checkRemote();
  assert.equal(s().remoteRequest.checking, true);
  await tick();
  answer(remoteStatus({ state: 'ready', url: URL_, model: 'qwen3-32b', models: ['qwen3-32b', 'llama-3.3-70b'], key: 'environment' }));
  await pending;
  assert.deepEqual(s().remote?.models, ['qwen3-32b', 'llama-3.3-70b']);
  assert.deepEqual(s().remoteRequest, { checking: false, savingKey: false, error: null });
  assert.deepEqual(h.sent, [{ name: 'remote.check', payload: {} }]);
});

test('a server that does not answer is a status; a host that refuses the check is an error line, and the status stays', async () => {
  const down = remoteStatus({ state: 'error', url: URL_, key: 'none', message: 'connect ECONNREFUSED 10.0.0.7:8000' });
  const s = createUiStore(new FakeHost().handle('remote.check', () => down)).getState;
  await s().checkRemote();
  assert.equal(s().remote?.message, 'connect ECONNREFUSED 10.0.0.7:8000');
  assert.equal(s().remoteRequest.error, null);

  const refusing = createUiStore(
    new FakeHost().handle('remote.check', () => {
      throw new Error('remote.check: the host is shutting down');
    }),
  ).getState;
  refusing().setRemote(down);
  await refusing().checkRemote();
  assert.equal(refusing().remoteRequest.error, 'remote.check: the host is shutting down');
  assert.equal(refusing().remoteRequest.checking, false);
  assert.equal(refusing().remote, down);
});

test('a key is sent as typed, only where from is kept; a refusal says why', async () => {
  const h = new FakeHost().handle('remote.key.set', ({ key }) => remoteStatus({ state: 'ready', url: URL_, key: key === '' ? 'none' : 'saved' }));
  const s = createUiStore(h).getState;
  assert.equal(await s().saveRemoteKey('sk-secret'), true);
  assert.equal(s().remote?.key, 'saved');
  assert.equal(JSON.stringify(s()).includes('sk-secret'), false, 'the store keeps no key');
  assert.equal(await s().saveRemoteKey(''), true);
  assert.equal(s().remote?.key, 'none');
  assert.deepEqual(h.sent.map((r) => r.payload), [{ key: 'sk-secret' }, { key: '' }]);

  const refusing = createUiStore(
    new FakeHost().handle('remote.key.set', () => {
      throw new Error('cannot write remote-key: read-only file system');
    }),
  ).getState;
  assert.equal(await refusing().saveRemoteKey('sk-x'), false);
  assert.deepEqual(refusing().remoteRequest, { checking: false, savingKey: false, error: 'cannot write remote-key: read-only file system' });
});

test('who answers follows the switch: null while off; on, the model and host, checking until the status knows the URL', () => {
  assert.equal(remoteAnswer({ settings: null, remote: null }), null);
  assert.equal(remoteAnswer({ settings: DEFAULT_SETTINGS, remote: remoteStatus() }), null);
  // Switched on a moment ago: the status still says off.
  assert.deepEqual(remoteAnswer({ settings: on({ model: 'qwen3-32b' }), remote: remoteStatus() }), { model: 'qwen3-32b', host: 'gpu-box:8000', state: 'checking', message: null });
  assert.deepEqual(remoteAnswer({ settings: on(), remote: remoteStatus({ state: 'ready', url: URL_, model: 'first-one', models: ['first-one'] }) }), {
    model: 'first-one',
    host: 'gpu-box:8000',
    state: 'ready',
    message: null,
  });
  assert.equal(remoteAnswer({ settings: on(), remote: remoteStatus({ state: 'error', url: URL_, message: 'HTTP 401 from gpu-box:8000' }) })?.message, 'HTTP 401 from gpu-box:8000');
  // keymate serve --remote: a server answers for the run though the settings' switch is off.
  assert.deepEqual(remoteAnswer({ settings: DEFAULT_SETTINGS, remote: remoteStatus({ state: 'ready', url: 'http://10.0.0.7:11434/v1', model: 'llama3.2', models: ['llama3.2'] }) }), {
    model: 'llama3.2',
    host: '10.0.0.7:11434',
    state: 'ready',
    message: null,
  });
});

test('urlHost and the key words', () => {
  assert.equal(urlHost('https://api.example.com/v1'), 'api.example.com');
  assert.equal(urlHost('not a url'), 'not a url');
  assert.equal(urlHost(''), '');
  assert.deepEqual((['environment', 'saved', 'none'] as const).map(remoteKeyWords), ['key from KEYMATE_REMOTE_API_KEY', 'key saved', 'no key']);
});

test('with a remote server answering, no local model means no first-run screen', () => {
  const s = createUiStore(new FakeHost()).getState;
  s().setEngine(engineStatus());
  s().setSettings(DEFAULT_SETTINGS);
  // The models were listed, and there are none.
  const state = { ...s(), models: [] };
  assert.equal(needsFirstRun(state), true);
  assert.equal(needsFirstRun({ ...state, settings: on() }), false);
});
