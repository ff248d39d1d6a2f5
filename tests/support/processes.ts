// Real processes to own files in tests of the owner-aware cleanup rules
// (storage/atomic-file.ts, models/download/part-lock.ts): a pid that runs,
// and one that has exited.
import * as assert from 'node:assert/strict';
import { spawn } from 'node:child_process';

/** A child that runs until the test ends, and its pid. */
export function liveChild(t: { after: (f: () => void) => void }): number {
  const child = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 600000)'], { stdio: 'ignore' });
  t.after(() => child.kill('SIGKILL'));
  assert.ok(child.pid !== undefined);
  return child.pid;
}

/** The pid of a child that has exited (so no process has it, barring reuse within a moment). */
export async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ['-e', ''], { stdio: 'ignore' });
  await new Promise((resolve) => child.on('exit', resolve));
  assert.ok(child.pid !== undefined);
  return child.pid;
}
