// Paths that name something other than a regular file, as a clumsy user (or
// an attacker) might give them where a model or a text is expected: a named
// pipe with no writer (a plain open() of it waits forever), a listening Unix
// socket, a character device and a folder. Each is made fresh in `dir`.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';

export interface SpecialFiles {
  /** kind, as the error message words it -> path */
  readonly paths: readonly { kind: RegExp; path: string }[];
  close(): Promise<void>;
}

export async function specialFiles(dir: string): Promise<SpecialFiles> {
  const fifo = path.join(dir, 'pipe.gguf');
  const made = spawnSync('mkfifo', [fifo]);
  if (made.status !== 0) throw new Error(`mkfifo ${fifo}: ${made.stderr.toString()}`);
  const socket = path.join(dir, 'socket.gguf');
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(socket, resolve));
  const folder = path.join(dir, 'folder.gguf');
  fs.mkdirSync(folder);
  return {
    paths: [
      { kind: /named pipe \(FIFO\)/, path: fifo },
      { kind: /socket/, path: socket },
      { kind: /character device/, path: '/dev/null' },
      { kind: /folder/, path: folder },
    ],
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
