// Running bin/keymate as a child process, the way a user or a script does:
// its exit code, stdout and stderr, and stdout parsed as JSON.
import { spawn, spawnSync } from 'node:child_process';
import * as assert from 'node:assert/strict';

import { bin } from './repo';

export interface CliRun {
  status: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** `timeoutMs` kills a child that hangs; its run then has signal SIGTERM and status null. */
export function keymate(args: readonly string[], env: NodeJS.ProcessEnv = {}, timeoutMs = 120_000): CliRun {
  const r = spawnSync(process.execPath, [bin, ...args], {
    encoding: 'utf8',
    env: { ...process.env, ...env },
    timeout: timeoutMs,
  });
  if (r.error !== undefined && (r.error as NodeJS.ErrnoException).code !== 'ETIMEDOUT') throw r.error;
  return { status: r.status, signal: r.signal, stdout: r.stdout, stderr: r.stderr };
}

/** Runs a command that must succeed with --json, and returns the one object it printed. */
export function keymateJson(args: readonly string[], env: NodeJS.ProcessEnv = {}): Record<string, unknown> {
  const r = keymate([...args, '--json'], env);
  assert.equal(r.status, 0, `keymate ${args.join(' ')} failed: ${r.stderr}`);
  const lines = r.stdout.split('\n').filter((l) => l !== '');
  assert.equal(lines.length, 1, `--json must print exactly one line, got:\n${r.stdout}`);
  const parsed: unknown = JSON.parse(lines[0] ?? '');
  assert.ok(typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed), 'not a JSON object');
  return parsed as Record<string, unknown>;
}

/** Asserts the error contract: exit 1, exactly one line `keymate: <what>: <what is wrong>` naming `names`. */
export function assertOneLineError(r: CliRun, names: string, wrong?: RegExp): void {
  assert.equal(r.status, 1, `expected exit code 1, got ${String(r.status)}; stderr: ${r.stderr}`);
  assert.equal(r.stdout, '', 'nothing on stdout on failure');
  const lines = r.stderr.split('\n').filter((l) => l !== '');
  assert.equal(lines.length, 1, `expected one line on stderr, got:\n${r.stderr}`);
  const line = lines[0] ?? '';
  assert.match(line, /^keymate: .+: .+/);
  assert.ok(line.includes(names), `'${line}' does not name ${names}`);
  if (wrong !== undefined) assert.match(line, wrong);
}

/** A running child, for tests that talk to it while it runs (Ctrl-C). */
export function spawnKeymate(args: readonly string[]) {
  return spawn(process.execPath, [bin, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
}
