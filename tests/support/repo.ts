// Where tests find things: the repository root, the built CLI, and the real
// models in ../shared/models (KEYMATE_MODELS_DIR overrides, as for ctest).
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

import { packageRoot } from '../../electron/host/engine/package-root';

export const root = packageRoot();
export const bin = path.join(root, 'bin', 'keymate');

export function modelsDir(): string {
  const env = process.env['KEYMATE_MODELS_DIR'];
  return env !== undefined && env !== '' ? env : path.join(root, '..', 'shared', 'models');
}

export function model(name: string): string {
  return path.join(modelsDir(), name);
}

/** The real 260K-parameter TinyStories model every CLI test runs. */
export const stories = (): string => model('stories260K.gguf');

// One exit listener for every folder, rather than one each (Node warns past ten).
const tempDirs: string[] = [];
process.once('exit', () => {
  for (const dir of tempDirs) fs.rmSync(dir, { recursive: true, force: true });
});

/** A fresh temporary folder, removed when the process exits. */
export function tempDir(prefix = 'keymate-test-'): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  tempDirs.push(dir);
  return dir;
}
