// README's environment table is the list of knobs: every KEYMATE_* variable
// the code reads (C++ getenv, TypeScript env lookups, CMake $ENV, scripts) is
// in it, and it lists none that nothing reads. A knob added without a line
// there fails here.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';

import { root } from './support/repo';

const FOLDERS = ['bin', 'common', 'electron', 'renderer', 'firmware-bridge', 'native', 'kernels', 'scripts', 'tests', '.ci'];
const SKIP = new Set(['node_modules', 'dist', 'build', '.git']);

// How each kind of file reads an environment variable.
const READS: { file: RegExp; read: RegExp }[] = [
  { file: /\.(ts|tsx|mts|mjs|js)$/, read: /\benv(?:\.|\[\s*['"])(KEYMATE_[A-Z0-9_]+)/g },
  { file: /\.(c|cc|cpp|h|cu|cuh)$/, read: /getenv\(\s*"(KEYMATE_[A-Z0-9_]+)"/g },
  { file: /CMakeLists\.txt$|\.cmake$/, read: /\$ENV\{(KEYMATE_[A-Z0-9_]+)\}/g },
  { file: /\.sh$|^run$/, read: /\$\{?(KEYMATE_[A-Z0-9_]+)/g },
  { file: /\.py$/, read: /environ(?:\.get\(\s*|\[\s*)['"](KEYMATE_[A-Z0-9_]+)/g },
];

function* files(dir: string): Generator<string> {
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    if (SKIP.has(e.name)) continue;
    const p = path.join(dir, e.name);
    if (e.isDirectory()) yield* files(p);
    else if (e.isFile()) yield p;
  }
}

function variablesRead(): Map<string, string> {
  const found = new Map<string, string>();
  for (const folder of FOLDERS) {
    const dir = path.join(root, folder);
    if (!fs.existsSync(dir)) continue;
    for (const file of files(dir)) {
      const kind = READS.find((r) => r.file.test(path.basename(file)));
      if (kind === undefined) continue;
      for (const m of fs.readFileSync(file, 'utf8').matchAll(kind.read)) {
        const name = m[1] ?? '';
        if (!found.has(name)) found.set(name, path.relative(root, file));
      }
    }
  }
  return found;
}

function variablesListed(): Set<string> {
  const readme = fs.readFileSync(path.join(root, 'README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('## Environment'));
  return new Set([...section.matchAll(/^\| `(KEYMATE_[A-Z0-9_]+)` \|/gm)].map((m) => m[1] ?? ''));
}

test("every KEYMATE_* variable the code reads is in README's environment table, and only those", () => {
  const read = variablesRead();
  const listed = variablesListed();
  assert.ok(read.size > 10, `the scan found only ${read.size} variables: is it looking in the right place?`);
  const missing = [...read].filter(([name]) => !listed.has(name)).map(([name, where]) => `${name} (read in ${where})`);
  assert.deepEqual(missing, [], "read but not in README's environment table");
  const stale = [...listed].filter((name) => !read.has(name));
  assert.deepEqual(stale, [], "in README's environment table but read nowhere");
});
