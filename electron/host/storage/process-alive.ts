// Whether the process that left a file behind (a temp file, a download lock)
// still runs: the app and the CLI share the data folder with no other way to
// talk. Signal 0 asks the OS without sending anything:
// ESRCH means gone, EPERM means it runs under another user (alive). Pids are
// reused, so where Linux tells us, a process's start time (in clock ticks
// since boot, /proc/<pid>/stat field 22) tells a reused pid from its first
// owner; elsewhere the callers bound the damage with an age or an id check.
import * as fs from 'node:fs';

export function pidAlive(pid: number): boolean {
  if (!Number.isSafeInteger(pid) || pid <= 0) return false;
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The process's start time as the kernel counts it, or null where that cannot be read (not Linux, gone, no /proc). */
export function processStart(pid: number): string | null {
  if (process.platform !== 'linux') return null;
  let stat: string;
  try {
    stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return null;
  }
  // "pid (comm) state ppid ...": comm may hold spaces and parentheses, so the
  // fields are counted from after its last ')'; starttime is field 22, the
  // 20th after comm.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const start = fields[19];
  return start !== undefined && /^\d+$/.test(start) ? start : null;
}
