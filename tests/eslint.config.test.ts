// The import-boundary rule of eslint.config.mjs, tested through ESLint itself
// with the real config: snippets placed (virtually) in each folder must pass
// or fail as DESIGN.md's import graph says.
import * as assert from 'node:assert/strict';
import * as path from 'node:path';
import { test } from 'node:test';

import { ESLint } from 'eslint';
import tseslint from 'typescript-eslint';

import { root } from './support/repo';

// Type information is not needed for this rule, and virtual files have none.
const eslint = new ESLint({ cwd: root, overrideConfig: [tseslint.configs.disableTypeChecked] });

async function boundaryErrors(file: string, code: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath: path.join(root, file) });
  assert.ok(result !== undefined);
  return result.messages.filter((m) => m.ruleId === 'keymate/import-boundaries').map((m) => m.message);
}

test('common/ imports nothing outside itself, not even Node', async () => {
  assert.deepEqual(await boundaryErrors('common/a.ts', "import { b } from './b';\nimport { z } from 'zod';\nexport const a = [b, z];\n"), []);
  const errors = await boundaryErrors(
    'common/deep/a.ts',
    "import { x } from '../../electron/host/engine/native-engine';\nimport * as fs from 'node:fs';\nimport os from 'os';\nexport const a = [x, fs, os];\n",
  );
  assert.equal(errors.length, 3, errors.join('\n'));
  assert.match(errors[0] ?? '', /^common\/ may not import from electron\/ \('..\/..\/electron\/host\/engine\/native-engine'\)/);
  assert.match(errors[1] ?? '', /common\/ may not import Node's 'node:fs'/);
  assert.match(errors[2] ?? '', /common\/ may not import Node's 'os'/);
});

test('renderer/ imports only common/', async () => {
  assert.deepEqual(await boundaryErrors('renderer/app.ts', "import { BACKENDS } from '../common/formats';\nexport const a = BACKENDS;\n"), []);
  const errors = await boundaryErrors('renderer/app.ts', "import { x } from '../firmware-bridge/x';\nimport { y } from '../electron/shell/y';\nexport const a = [x, y];\n");
  assert.equal(errors.length, 2, errors.join('\n'));
  assert.match(errors[1] ?? '', /renderer\/ may not import from electron\/shell\//);
});

test('firmware-bridge/ imports only common/ (and Node)', async () => {
  assert.deepEqual(await boundaryErrors('firmware-bridge/link.ts', "import * as fs from 'node:fs';\nimport { x } from '../common/x';\nexport const a = [fs, x];\n"), []);
  const errors = await boundaryErrors('firmware-bridge/link.ts', "import { x } from '../electron/host/x';\nexport const a = x;\n");
  assert.equal(errors.length, 1, errors.join('\n'));
});

test("only electron/shell/ may import 'electron'; the host core may not import the shell", async () => {
  assert.deepEqual(await boundaryErrors('electron/shell/main.ts', "import { app } from 'electron';\nimport { c } from '../cli/main';\nexport const a = [app, c];\n"), []);
  const inHost = await boundaryErrors('electron/host/x.ts', "import { app } from 'electron';\nimport { w } from '../shell/window';\nexport const a = [app, w];\n");
  assert.equal(inHost.length, 2, inHost.join('\n'));
  assert.match(inHost[0] ?? '', /only electron\/shell\/ may import 'electron'/);
  assert.match(inHost[1] ?? '', /electron\/ may not import from electron\/shell\//);
});

test('electron/ may use common/ and firmware-bridge/, not native/ or renderer/', async () => {
  assert.deepEqual(await boundaryErrors('electron/host/x.ts', "import { a } from '../../common/a';\nimport { b } from '../../firmware-bridge/b';\nexport const c = [a, b];\n"), []);
  const errors = await boundaryErrors('electron/host/x.ts', "import { r } from '../../renderer/r';\nconst n = require('../../native/addon/x');\nexport const c = [r, n];\n");
  assert.equal(errors.length, 2, errors.join('\n'));
});

test('dynamic import(), require() and export-from are checked too', async () => {
  const errors = await boundaryErrors(
    'common/a.ts',
    "export { x } from '../electron/x';\nexport * from '../renderer/y';\nexport async function f() { return import('../firmware-bridge/z'); }\n",
  );
  assert.equal(errors.length, 3, errors.join('\n'));
});

test('tests/ may import anything', async () => {
  assert.deepEqual(await boundaryErrors('tests/x.test.ts', "import { app } from 'electron';\nimport * as fs from 'node:fs';\nimport { e } from '../electron/host/e';\nexport const a = [app, fs, e];\n"), []);
});
