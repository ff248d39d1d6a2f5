// The link's view of a serial port: bytes in, bytes out, and one close notification whatever
// the cause (unplug, hang-up, I/O error, or our own close). Behind it is serialport, which
// opens the tty raw (no echo, no CR/LF mapping, no XON/XOFF: every byte value passes) and
// takes an exclusive lock, so two hosts cannot share one keyboard by accident. On Linux its
// reads happen on the JS thread (read-now.ts).
import * as fs from 'node:fs';

import { fileKind, fileKindPhrase } from '../../common/file-kind';
import { printable } from '../../common/printable';
import { readNowBinding } from './read-now';

export interface PortHandlers {
  onData(bytes: Uint8Array): void;
  /** Called once when the port is gone; `error` says why if it was not our own close. */
  onClose(error?: Error): void;
}

export interface PortConnection {
  readonly path: string;
  write(bytes: Uint8Array): Promise<void>;
  close(): Promise<void>;
}

export type PortOpener = (path: string, handlers: PortHandlers) => Promise<PortConnection>;

/** USB CDC ignores the baud rate; it is set because a UART bridge would need one. */
export const DEFAULT_BAUD_RATE = 115200;

/** How long close() waits for the OS to close a port before going on without it. */
const CLOSE_TIMEOUT_MS = 2000;

export async function openSerialPort(path: string, handlers: PortHandlers, baudRate = DEFAULT_BAUD_RATE): Promise<PortConnection> {
  await checkSerialPath(path);
  const port = await newPort(path, baudRate);
  await new Promise<void>((resolve, reject) => port.open((e) => (e ? reject(openError(path, e)) : resolve())));

  let closed = false;
  let lastError: Error | undefined;
  // An 'error' event without a listener would throw; errors are reported with the close.
  port.on('error', (e: Error) => {
    lastError = e;
  });
  port.on('close', (e?: Error | null) => {
    if (closed) return;
    closed = true;
    const err = e ?? lastError;
    handlers.onClose(err ?? undefined);
  });
  port.on('data', (chunk: Buffer) => handlers.onData(chunk));
  // Bytes that waited in the tty from before we opened belong to nobody.
  await new Promise<void>((resolve) => port.flush(() => resolve()));

  return {
    path,
    write: (bytes) =>
      new Promise<void>((resolve, reject) => {
        if (closed || !port.isOpen) {
          reject(new Error('the port is closed'));
          return;
        }
        port.write(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength), (e) => (e ? reject(e) : resolve()));
      }),
    close: () =>
      new Promise<void>((resolve) => {
        if (closed || !port.isOpen) {
          closed = true;
          resolve();
          return;
        }
        closed = true;
        // A port whose device vanished mid-write can leave the OS close pending
        // for a long time; the link must still stop, so the wait is bounded.
        const timer = setTimeout(resolve, CLOSE_TIMEOUT_MS);
        port.close(() => {
          clearTimeout(timer);
          resolve();
        });
      }),
  };
}

/** serialport's stream over its binding for this system; on Linux, one that reads on the JS thread (read-now.ts). */
async function newPort(path: string, baudRate: number) {
  if (process.platform === 'linux') {
    const [{ SerialPortStream }, bindings] = await Promise.all([import('@serialport/stream'), import('@serialport/bindings-cpp')]);
    return new SerialPortStream({ binding: readNowBinding(bindings), path, baudRate, autoOpen: false });
  }
  const { SerialPort } = await import('serialport');
  return new SerialPort({ path, baudRate, autoOpen: false });
}

/**
 * A serial port is a character device: anything else named as the keyboard
 * (a typo, a folder, a pipe, a model file) is refused before serialport
 * opens it, with what it is instead.
 */
async function checkSerialPath(path: string): Promise<void> {
  let st: fs.Stats;
  try {
    st = await fs.promises.stat(path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new Error(code === 'ENOENT' ? 'no such port (is the keyboard plugged in?)' : printable((e as Error).message, 120));
  }
  const kind = fileKind(st);
  if (kind !== 'character device') throw new Error(`not a serial port: it is ${fileKindPhrase(kind)}`);
}

/**
 * serialport's open errors, in the link's words: it adds ", cannot open PATH"
 * to the OS's text (the link names the path already), and a device that is
 * not a terminal (/dev/null) fails on the baud-rate ioctl, which says nothing
 * to a user.
 */
function openError(path: string, e: Error): Error {
  const text = e.message.replace(/^Error: /, '').replace(`, cannot open ${path}`, '');
  if (/Inappropriate ioctl|ENOTTY/i.test(text)) return new Error('not a serial port: the device is not a terminal');
  return new Error(printable(text, 160));
}
