// The API's slice: its status is the host's, and a new key replaces the old
// one in the status; a refusal keeps the old key shown and says why.
import * as assert from 'node:assert/strict';
import { test } from 'node:test';

import { createUiStore } from '../../../renderer/store/store';
import { FakeHost, apiStatus } from '../fake-host';

const LISTENING = apiStatus({ state: 'listening', api_base: 'http://127.0.0.1:11435/v1', key: 'km-old' });

test('renewing the key takes the status the host answers', async () => {
  const h = new FakeHost().handle('api.key.renew', () => ({ ...LISTENING, key: 'km-new' }));
  const s = createUiStore(h).getState;
  s().setApi(LISTENING);
  const pending = s().renewApiKey();
  assert.equal(s().apiRequest.renewing, true);
  assert.equal(await pending, true);
  assert.equal(s().api?.key, 'km-new');
  assert.deepEqual(s().apiRequest, { renewing: false, error: null });
  assert.deepEqual(h.names(), ['api.key.renew']);
});

test('a refused renewal keeps the old key and says why', async () => {
  const s = createUiStore(
    new FakeHost().handle('api.key.renew', () => {
      throw new Error('cannot write api-key: disk full');
    }),
  ).getState;
  s().setApi(LISTENING);
  assert.equal(await s().renewApiKey(), false);
  assert.equal(s().api?.key, 'km-old');
  assert.deepEqual(s().apiRequest, { renewing: false, error: 'cannot write api-key: disk full' });
});
