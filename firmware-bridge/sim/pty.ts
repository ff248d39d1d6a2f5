// A pseudo-terminal pair for the simulated keyboard. Node can open /dev/ptmx (the master) but
// cannot make the ioctls that unlock the slave and name it, so a few lines of Python's
// standard library do just that on the inherited descriptor and exit; the master stays in
// this process, read and written through libuv without any relay in between. The slave is
// set raw (no echo, no CR/LF mapping, no XON/XOFF), so every byte value passes as on USB CDC.
//
// The simulator also keeps the slave open itself ("keeper"): otherwise each time the host
// closes its end, reading the master fails with EIO until the host opens it again.
// Linux only (Python's os.unlockpt/ptsname, 3.13+, would also cover macOS).

import { spawn } from 'node:child_process';
import * as fs from 'node:fs';

export interface PseudoTerminal {
  masterFd: number;
  keeperFd: number;
  /** The slave's path (/dev/pts/N): what a host opens. */
  slavePath: string;
}

const HELPER = `
import fcntl, os, struct, sys, termios, tty
fd = 3
if hasattr(os, "unlockpt"):
    os.unlockpt(fd)
    name = os.ptsname(fd)
else:
    fcntl.ioctl(fd, getattr(termios, "TIOCSPTLCK", 0x40045431), struct.pack("i", 0))
    n = struct.unpack("I", fcntl.ioctl(fd, getattr(termios, "TIOCGPTN", 0x80045430), struct.pack("I", 0)))[0]
    name = "/dev/pts/%d" % n
s = os.open(name, os.O_RDWR | os.O_NOCTTY)
tty.setraw(s)
os.close(s)
sys.stdout.write(name + "\\n")
`;

export async function openPseudoTerminal(python = process.env['KEYMATE_PYTHON'] ?? 'python3'): Promise<PseudoTerminal> {
  // Non-blocking: the simulator often runs in the same process as the host that reads the
  // other end (the tests), and a blocking write into a full pty buffer would stop the very
  // event loop that was to drain it. libuv queues what does not fit instead.
  const masterFd = fs.openSync('/dev/ptmx', fs.constants.O_RDWR | fs.constants.O_NOCTTY | fs.constants.O_NONBLOCK);
  try {
    const slavePath = await runHelper(python, masterFd);
    const keeperFd = fs.openSync(slavePath, fs.constants.O_RDWR | fs.constants.O_NOCTTY);
    return { masterFd, keeperFd, slavePath };
  } catch (e) {
    fs.closeSync(masterFd);
    throw e;
  }
}

function runHelper(python: string, masterFd: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(python, ['-c', HELPER], { stdio: ['ignore', 'pipe', 'pipe', masterFd] });
    let out = '';
    let err = '';
    child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr?.on('data', (d: Buffer) => (err += d.toString()));
    child.on('error', (e) =>
      reject(new Error(`pseudo-terminal: cannot run ${python} (${e.message}); it is needed to create one`)),
    );
    child.on('close', (code) => {
      const name = out.trim();
      if (code === 0 && name.startsWith('/dev/')) resolve(name);
      else reject(new Error(`pseudo-terminal: ${python} could not unlock it: ${err.trim().split('\n').pop() ?? `exit ${code}`}`));
    });
  });
}
