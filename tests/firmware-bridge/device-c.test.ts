// The C side of the link (firmware-bridge/device) built and tested from the Node suite, so
// `npm test` covers both implementations of the shared vectors: the Makefile's `test` target
// (vectors, codec properties, the device state machine, with ASan and UBSan, -Werror) and its
// `portable` target (the library alone, strict C99, no sanitizer). Skipped, saying why, on a
// machine without make and a C compiler.
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { test } from 'node:test';

import { root, tempDir } from '../support/repo';

const hasTool = (tool: string): boolean => spawnSync(tool, ['--version'], { stdio: 'ignore' }).status === 0;
const missing = ['make', process.env['CC'] ?? 'cc'].filter((t) => !hasTool(t));

test('C device library: make test and make portable pass', { skip: missing.length > 0 ? `no ${missing.join(', ')}` : false, timeout: 600_000 }, () => {
  const build = tempDir('keymate-device-c-');
  for (const target of ['test', 'portable']) {
    const r = spawnSync('make', ['-C', path.join(root, 'firmware-bridge', 'device'), target, `BUILD=${build}`], {
      encoding: 'utf8',
      timeout: 600_000,
    });
    assert.equal(r.status, 0, `make ${target} failed:\n${r.stdout}\n${r.stderr}`);
    if (target === 'test') {
      for (const suite of ['test_vectors', 'test_codec', 'test_device']) {
        assert.match(r.stderr, new RegExp(`${suite}: [1-9]\\d* checks, 0 failed`), `${suite} ran`);
      }
    }
  }
});
