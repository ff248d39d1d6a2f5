// serialport's Linux binding with reads on the JS thread. Its own read goes
// through libuv's thread pool: the port is polled on the JS thread, then each
// read is queued to a pool thread, and the bytes come back with one more
// wake-up. A key edge is a few bytes already waiting in a nonblocking tty, so
// here they are read on the JS thread the moment the poll says they are
// there: one wake-up instead of three, each of which waits for a core on a
// busy machine (scripts/bench-keylink.ts, 2 cores: p50 0.105-0.115 -> 0.080
// ms, p90 0.155-0.187 -> 0.110-0.113; in scripts/bench-press.ts, beside the
// engine and the browser, the keyboard stage's p90 1.10-1.55 -> 0.50-0.56 ms;
// BENCHMARKS). Everything else is the Linux binding's.
import * as fs from 'node:fs';

import type { BindingsError, LinuxBindingInterface, LinuxPortBinding } from '@serialport/bindings-cpp';

type Bindings = { LinuxBinding: LinuxBindingInterface; BindingsError: typeof BindingsError };

/** The Linux binding of `bindings` (the module, loaded by the caller when a port is opened) with reads on the JS thread. */
export function readNowBinding({ LinuxBinding, BindingsError }: Bindings): LinuxBindingInterface {
  return {
    list: () => LinuxBinding.list(),
    async open(options) {
      const port = await LinuxBinding.open(options);
      port.read = (buffer, offset, length) => readNow(port, buffer, offset, length, BindingsError);
      return port;
    },
  };
}

/** Error codes that mean the device is gone (as the Linux binding's own read words them). */
const GONE = new Set(['EBADF', 'ENXIO', 'UNKNOWN']);
/** Error codes that mean "nothing to read yet". */
const NOT_YET = new Set(['EAGAIN', 'EWOULDBLOCK', 'EINTR']);

async function readNow(
  port: LinuxPortBinding,
  buffer: Buffer,
  offset: number,
  length: number,
  BindingsError: Bindings['BindingsError'],
): Promise<{ buffer: Buffer; bytesRead: number }> {
  for (;;) {
    const fd = port.fd;
    if (!port.isOpen || fd === null) throw new BindingsError('Port is not open', { canceled: true });
    try {
      const bytesRead = fs.readSync(fd, buffer, offset, length, null);
      if (bytesRead > 0) return { buffer, bytesRead };
    } catch (e) {
      const err = e as NodeJS.ErrnoException & { disconnect?: boolean };
      if (!NOT_YET.has(err.code ?? '')) {
        if (GONE.has(err.code ?? '') || err.errno === -1) err.disconnect = true;
        throw err;
      }
    }
    // Nothing yet (or end of file, which a tty only reports on a hang-up the poll also sees):
    // wait for the poll rather than asking again at once.
    await new Promise<void>((resolve, reject) => port.poller.once('readable', (err) => (err ? reject(err) : resolve())));
  }
}
