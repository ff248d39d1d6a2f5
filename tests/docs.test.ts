// docs/ARCHITECTURE.md walks a newcomer through the code file by file: every
// path it names must exist, or the walk breaks where the code moved.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';

import { root } from './support/repo';

const TOP = /^(common|electron|renderer|firmware-bridge|native|kernels|tests|scripts|docs|bin)\//;

test('every file docs/ARCHITECTURE.md names exists', () => {
  const text = fs.readFileSync(path.join(root, 'docs', 'ARCHITECTURE.md'), 'utf8');
  const named = new Set<string>();
  for (const m of text.matchAll(/[\w./-]+/g)) {
    const p = m[0].replace(/[.,:;)]+$/, '');
    if (TOP.test(p)) named.add(p.replace(/\{.*$/, ''));
  }
  assert.ok(named.size > 15, `only ${named.size} paths found`);
  const missing = [...named].filter((p) => !fs.existsSync(path.join(root, p)));
  assert.deepEqual(missing, [], 'named in docs/ARCHITECTURE.md but not in the tree');
});
