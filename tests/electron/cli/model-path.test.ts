import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';

import { CliError } from '../../../electron/cli/errors';
import { checkOutputPath, resolveModelPath } from '../../../electron/cli/model-path';
import { tempDir } from '../../support/repo';

test('an existing path is used as given', () => {
  const dir = tempDir();
  const file = path.join(dir, 'm.gguf');
  fs.writeFileSync(file, 'x');
  assert.equal(resolveModelPath(file, {}), file);
});

test('a bare name is looked up in $KEYMATE_HOME/models', () => {
  const home = tempDir();
  fs.mkdirSync(path.join(home, 'models'));
  fs.writeFileSync(path.join(home, 'models', 'only-in-home.gguf'), 'x');
  assert.equal(resolveModelPath('only-in-home.gguf', { KEYMATE_HOME: home }), path.join(home, 'models', 'only-in-home.gguf'));
  assert.throws(
    () => resolveModelPath('absent.gguf', { KEYMATE_HOME: home }),
    (e: unknown) => e instanceof CliError && e.message === `absent.gguf: no such file (nor in ${path.join(home, 'models')})`,
  );
});

test('missing files and folders are CliErrors naming the path', () => {
  const dir = tempDir();
  assert.throws(() => resolveModelPath(path.join(dir, 'nope.gguf'), {}), (e: unknown) => e instanceof CliError && e.message.endsWith('nope.gguf: no such file'));
  assert.throws(() => resolveModelPath(dir, {}), (e: unknown) => e instanceof CliError && e.message === `${dir}: is a folder, not a model file`);
});

test('an output path needs an existing folder', () => {
  const dir = tempDir();
  assert.equal(checkOutputPath(path.join(dir, 'out.gguf')), path.join(dir, 'out.gguf'));
  assert.throws(() => checkOutputPath(path.join(dir, 'no', 'out.gguf')), /folder .* does not exist/);
  assert.throws(() => checkOutputPath(dir), /is a folder/);
});
