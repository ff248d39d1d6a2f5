// Hostile and broken input through the real command line: every case must
// end with exit code 1 and exactly one line `keymate: <what>: <what is
// wrong>` naming the file, never a crash, a hang or a stack trace.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';

import { assertOneLineError, keymate } from '../../support/cli';
import { stories, tempDir } from '../../support/repo';
import { specialFiles } from '../../support/special-files';

const dir = tempDir();

function file(name: string, bytes: Buffer | string): string {
  const p = path.join(dir, name);
  fs.writeFileSync(p, bytes);
  return p;
}

const commandsWithModel: ((m: string) => string[])[] = [
  (m) => ['generate', '--model', m, '--prompt', 'Once'],
  (m) => ['info', '--model', m],
  (m) => ['bench', '--model', m, '--prompt-tokens', '4', '--gen-tokens', '2', '--repeat', '1'],
];

test('a missing model file', () => {
  const missing = path.join(dir, 'missing.gguf');
  for (const argv of commandsWithModel) assertOneLineError(keymate(argv(missing)), missing, /no such file/);
});

test('a folder given as the model', () => {
  for (const argv of commandsWithModel) assertOneLineError(keymate(argv(dir)), dir, /folder/);
});

// A named pipe used to hang every command in open() (and two Ctrl-Cs could
// not end it); a socket, a device or a folder must be named for what they are.
// 20 s is a hang guard, far above the time a refusal takes (node's start).
test('a pipe, a socket, a device or a folder as the model or text: one line at once, never a hang', async () => {
  const special = await specialFiles(tempDir('keymate-special-'));
  try {
    const home = { KEYMATE_HOME: tempDir('keymate-home-') };
    for (const { kind, path: p } of special.paths) {
      const runs = [
        ...commandsWithModel.map((argv) => argv(p)),
        ['models', 'import', p],
        ['serve', '--model', p, '--port', '0'],
        ['eval', '--model', stories(), '--text', p],
      ];
      for (const argv of runs) {
        const r = keymate(argv, home, 20_000);
        assert.equal(r.signal, null, `keymate ${argv.join(' ')} hung`);
        assertOneLineError(r, p, kind);
      }
    }
  } finally {
    await special.close();
  }
});

test('a file that is not a GGUF', () => {
  const text = file('notes.gguf', 'these are not the weights you are looking for\n'.repeat(20));
  for (const argv of commandsWithModel) assertOneLineError(keymate(argv(text)), text);
});

test('an empty file', () => {
  const empty = file('empty.gguf', '');
  assertOneLineError(keymate(['info', '--model', empty]), empty);
});

test('a truncated GGUF (a real model cut in the header, the metadata and the tensor data)', () => {
  const real = fs.readFileSync(stories());
  for (const cut of [6, 100, 4096, Math.floor(real.length / 2), real.length - 1]) {
    const truncated = file(`truncated-${cut}.gguf`, real.subarray(0, cut));
    assertOneLineError(keymate(['generate', '--model', truncated, '--prompt', 'Once', '--max-tokens', '2']), truncated);
  }
});

test('a GGUF with a corrupted header count', () => {
  const real = Buffer.from(fs.readFileSync(stories()));
  real.writeBigUInt64LE(0xffffffffffffn, 8); // tensor count: absurdly large
  const bad = file('bad-count.gguf', real);
  assertOneLineError(keymate(['info', '--model', bad]), bad);
});

test('a synth into a folder that does not exist', () => {
  const out = path.join(dir, 'no-such-folder', 'x.gguf');
  assertOneLineError(keymate(['synth', '--shape', 'test-llama2', '--out', out]), out, /does not exist/);
});

test('an addon that is not there', () => {
  const r = keymate(['info'], { KEYMATE_ADDON: path.join(dir, 'nope.node') });
  assertOneLineError(r, 'nope.node', /native addon: .*not built \(run npm install/);
});
