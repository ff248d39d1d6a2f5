// The CLI's dispatch and error contract, run in-process over a fake CliIo:
// exit codes, what goes to stdout and stderr, and the registry.
import * as assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { test } from 'node:test';

import type { CliIo } from '../../../electron/cli/command';
import { commands } from '../../../electron/cli/commands';
import { usageHelp } from '../../../electron/cli/args';
import { main } from '../../../electron/cli/main';

async function cli(argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  const out: string[] = [];
  const err: string[] = [];
  stdout.on('data', (d: Buffer) => out.push(d.toString()));
  stderr.on('data', (d: Buffer) => err.push(d.toString()));
  const io: CliIo = { stdout, stderr, env: { ...process.env }, signal: new AbortController().signal };
  const code = await main(argv, io);
  return { code, stdout: out.join(''), stderr: err.join('') };
}

test('the registry holds the commands DESIGN.md names, once each', () => {
  const names = commands.map((c) => c.name);
  for (const n of ['generate', 'bench', 'synth', 'info']) assert.ok(names.includes(n), n);
  assert.equal(new Set(names).size, names.length);
  for (const c of commands) assert.match(c.usage, new RegExp(`^keymate ${c.name}`));
});

test('no command is bad usage (exit 2), --help is not', async () => {
  const none = await cli([]);
  assert.equal(none.code, 2);
  assert.match(none.stderr, /^usage: keymate <command>/);
  assert.equal(none.stdout, '');
  const help = await cli(['--help']);
  assert.equal(help.code, 0);
  for (const c of commands) assert.match(help.stdout, new RegExp(`\\n  ${c.name} `));
});

test('an unknown command exits 2 and names it', async () => {
  const r = await cli(['frobnicate']);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /^keymate: unknown command 'frobnicate'\nusage: keymate <command>/);
});

test('bad usage of a command exits 2 with its usage line', async () => {
  const r = await cli(['generate', '--prompt', 'hi']);
  assert.equal(r.code, 2);
  const lines = r.stderr.trimEnd().split('\n');
  assert.deepEqual(lines.length, 2);
  assert.equal(lines[0], 'keymate: generate: --model PATH is required (or --remote BASE_URL)');
  assert.match(lines[1] ?? '', /^usage: keymate generate \[--model PATH\] \[--remote BASE_URL\] \[--remote-model NAME\] --prompt TEXT /);
  assert.equal(r.stdout, '');
});

test('bench needs exactly one of --model and --synthetic', async () => {
  for (const argv of [['bench'], ['bench', '--model', 'a.gguf', '--synthetic', 'llama2-7b']]) {
    const r = await cli(argv);
    assert.equal(r.code, 2, argv.join(' '));
    assert.match(r.stderr, /^keymate: bench: give exactly one of --model and --synthetic\nusage: keymate bench \(--model PATH \| --synthetic SHAPE\)/);
  }
});

test('<command> --help prints its usage and options on stdout', async () => {
  for (const c of commands) {
    const r = await cli([c.name, '--help']);
    assert.equal(r.code, 0, c.name);
    // The usage line, wrapped to fit 100 columns: joined again, it is the usage.
    assert.ok(r.stdout.startsWith(`${usageHelp(c.usage)}\n`), c.name);
    const head = r.stdout.slice(0, usageHelp(c.usage).length).replace(/\|\n {9}/g, '|').replace(/\n {9}/g, ' ');
    assert.equal(head, `usage: ${c.usage}`, c.name);
  }
});

test('--version prints package.json version', async () => {
  const r = await cli(['--version']);
  assert.equal(r.code, 0);
  assert.match(r.stdout, /^\d+\.\d+\.\d+\n$/);
});
