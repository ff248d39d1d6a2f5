// The one gate every path a user can name passes before the host or the
// engine reads it (models, eval texts): it must be a regular file, checked on
// an open that cannot block. A plain open() of a named pipe waits for a
// writer, and on the event loop (or in libuv's four pool threads) that freezes
// the whole host; so the path is opened with O_NONBLOCK (a FIFO opens at once,
// a socket fails with ENXIO), O_NOCTTY (a terminal never becomes ours), and
// fstat on that very descriptor says what it is. The engine's own open
// (native/src/gguf.cpp) follows the same rule, so a file swapped for a pipe
// after this check still cannot hang it.
import * as fs from 'node:fs';

import { type FileKind, fileKind, fileKindPhrase } from '../../../common/file-kind';
import { printable } from '../../../common/printable';

const FLAGS = fs.constants.O_RDONLY | fs.constants.O_NONBLOCK | fs.constants.O_NOCTTY;

export class NotARegularFile extends Error {
  override readonly name = 'NotARegularFile';
  constructor(
    message: string,
    readonly kind: FileKind | 'missing' | 'unreadable',
  ) {
    super(message);
  }
}

/** "what" names the file's role in the message: "model file", "text file". */
export async function checkRegularFile(file: string, what: string): Promise<{ size: number }> {
  let handle: fs.promises.FileHandle;
  try {
    handle = await fs.promises.open(file, FLAGS);
  } catch (e) {
    throw openError(file, what, e);
  }
  try {
    return verdict(file, what, await handle.stat());
  } finally {
    await handle.close();
  }
}

/** checkRegularFile for the command line, where nothing else is waiting on the thread; it cannot block either. */
export function checkRegularFileSync(file: string, what: string): { size: number } {
  let fd: number;
  try {
    fd = fs.openSync(file, FLAGS);
  } catch (e) {
    throw openError(file, what, e);
  }
  try {
    return verdict(file, what, fs.fstatSync(fd));
  } finally {
    fs.closeSync(fd);
  }
}

function verdict(file: string, what: string, st: fs.Stats): { size: number } {
  const kind = fileKind(st);
  if (kind !== 'file') throw new NotARegularFile(`${printable(file, 200)}: is ${fileKindPhrase(kind)}, not a ${what}`, kind);
  return { size: st.size };
}

function openError(file: string, what: string, e: unknown): NotARegularFile {
  const name = printable(file, 200);
  switch ((e as NodeJS.ErrnoException).code) {
    case 'ENOENT':
      return new NotARegularFile(`${name}: no such file`, 'missing');
    case 'ENOTDIR':
      return new NotARegularFile(`${name}: no such file (a part of the path is not a folder)`, 'missing');
    case 'EACCES':
    case 'EPERM':
      return new NotARegularFile(`${name}: cannot be read (permission denied)`, 'unreadable');
    case 'ENXIO':
      // Linux answers a non-blocking open of a socket (or a FIFO with no reader, for writing) so.
      return new NotARegularFile(`${name}: is a socket, not a ${what}`, 'socket');
    case 'ELOOP':
      return new NotARegularFile(`${name}: too many symbolic links`, 'unreadable');
    default:
      return new NotARegularFile(`${name}: cannot be opened: ${(e as Error).message}`, 'unreadable');
  }
}
