// common/formats.ts against the engine's own format table (the addon's
// formats()): a name added to, dropped from or reordered in
// native/src/quant/weight_formats.cpp without the TypeScript list fails here.
import * as assert from 'node:assert/strict';
import { test } from 'node:test';

import { KV_FORMATS, WEIGHT_FORMATS } from '../../../../common/formats';
import { engineFormats } from '../../../../electron/host/engine/native-engine';

test('WEIGHT_FORMATS and KV_FORMATS are the engine\'s names, in its order', () => {
  const f = engineFormats();
  assert.deepEqual(f.weights.map((w) => w.name), [...WEIGHT_FORMATS]);
  assert.deepEqual(f.kv.map((k) => k.name), [...KV_FORMATS]);
});

test('every alias stands for a listed name, and only native has no bit width', () => {
  const f = engineFormats();
  for (const list of [f.weights, f.kv]) {
    const names = new Set(list.map((x) => x.name));
    for (const x of list) {
      if (x.sameAs !== '') assert.ok(names.has(x.sameAs), `${x.name} is an alias of unknown ${x.sameAs}`);
      assert.ok(x.about !== '', `${x.name} has no description`);
      assert.equal(x.bits === 0, x.name === 'native', `${x.name}: bits ${x.bits}`);
    }
  }
  const int4 = f.weights.find((w) => w.name === 'int4');
  assert.equal(int4?.sameAs, 'int4-g32');
});
