// Real chat templates for the tests, as the models' authors wrote them: the
// ones llama.cpp keeps in models/templates/, from the llama.cpp source that
// node-llama-cpp bundles (scripts/reference/). Nothing of them is committed
// here: a test reads them from the checkout build-llama.sh makes, or, on a
// clean clone, straight from the bundle (cloned once, without a work tree,
// into build/). syntheticQwen3 puts one into a small random-weight model.
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

import { writeSyntheticModel } from '../../electron/host/engine/native-engine';
import { modelsDir, root } from './repo';

const reference = path.join(root, 'scripts', 'reference');
const checkout = path.join(reference, 'llama.cpp', 'models', 'templates');
const bundle = path.join(reference, 'node_modules', 'node-llama-cpp', 'llama', 'gitRelease.bundle');
const clone = path.join(root, 'build', 'reference-templates.git');
const INSTALL = '(cd scripts/reference && npm install --ignore-scripts --omit=optional --no-package-lock --no-audit --no-fund)';

/** The text of llama.cpp's models/templates/<name>.jinja ("Qwen-Qwen3-0.6B"). */
export function realTemplate(name: string): string {
  const file = path.join(checkout, `${name}.jinja`);
  if (fs.existsSync(file)) return fs.readFileSync(file, 'utf8');
  if (!fs.existsSync(bundle)) throw new Error(`real chat templates: neither ${path.relative(root, checkout)} nor node-llama-cpp's bundle is here; run ${INSTALL}`);
  if (!fs.existsSync(path.join(clone, 'HEAD'))) {
    // Cloned beside its final name and renamed: a test killed halfway leaves no half clone behind.
    const part = `${clone}.${process.pid}`;
    fs.rmSync(part, { recursive: true, force: true });
    fs.mkdirSync(path.dirname(clone), { recursive: true });
    execFileSync('git', ['clone', '--bare', '--quiet', bundle, part], { stdio: ['ignore', 'ignore', 'pipe'] });
    try {
      fs.renameSync(part, clone);
    } catch (e) {
      // Another test process cloned it first.
      fs.rmSync(part, { recursive: true, force: true });
      if (!fs.existsSync(path.join(clone, 'HEAD'))) throw e;
    }
  }
  return execFileSync('git', ['--git-dir', clone, 'show', `HEAD:models/templates/${name}.jinja`], { encoding: 'utf8', maxBuffer: 16 << 20 });
}

/**
 * A small qwen3 model of random weights (synth's test-qwen3 shape, the real
 * Qwen vocabulary) carrying a real chat template, written into `dir`: its
 * replies are nonsense, but where they go (thinking or answer) is the
 * template's doing.
 */
export async function syntheticQwen3(template: string, dir: string): Promise<string> {
  const out = path.join(dir, `test-qwen3-${template}.gguf`);
  await writeSyntheticModel({ shape: 'test-qwen3', type: 'q8_0', seed: 1, vocab: path.join(modelsDir(), 'vocab'), chatTemplate: realTemplate(template) }, out);
  return out;
}
