// The link's view of a serial port: bytes in, bytes out, and one close notification whatever
// the cause (unplug, hang-up, I/O error, or our own close). Behind it is serialport, which
// opens the tty raw (no echo, no CR/LF mapping, no XON/XOFF: every byte value passes) and
// takes an exclusive lock, so two hosts cannot share one keyboard by accident.

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
  const { SerialPort } = await import('serialport');
  const port = new SerialPort({ path, baudRate, autoOpen: false });
  await new Promise<void>((resolve, reject) => port.open((e) => (e ? reject(e) : resolve())));

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
