import * as assert from 'node:assert/strict';
import * as path from 'node:path';
import { test } from 'node:test';

import { addonCandidates } from '../../../../electron/host/engine/load-addon';
import { root } from '../../../support/repo';

test('KEYMATE_ADDON names the addon exactly', () => {
  assert.deepEqual(addonCandidates({ KEYMATE_ADDON: 'rel/k.node' }), [path.resolve('rel/k.node')]);
});

test("otherwise cmake-js's output folder is searched, Release first", () => {
  const c = addonCandidates({});
  assert.equal(c[0], path.join(root, 'build', 'addon', 'Release', 'keymate.node'));
  assert.ok(c.every((p) => p.startsWith(path.join(root, 'build', 'addon'))));
});
