// Test helpers for the link: an in-memory USB cable between a KeyboardLink and a simulated
// keyboard's DeviceSession (no pty, so link logic is tested on its own), and waiting helpers.
import type { KeyboardLink } from '../../firmware-bridge/host/keyboard-link';
import type { LinkState, LinkStatus } from '../../firmware-bridge/host/link-state';
import type { PortConnection, PortHandlers, PortOpener } from '../../firmware-bridge/host/serial-port';
import type { Message } from '../../firmware-bridge/protocol';
import { DeviceSession, type DeviceSessionOptions } from '../../firmware-bridge/sim/device-session';

/** Resolves once `check` is true; rejects with `what` after timeoutMs. */
export async function waitFor(what: string, check: () => boolean, timeoutMs = 3000): Promise<void> {
  const start = Date.now();
  while (!check()) {
    if (Date.now() - start > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 2));
  }
}

/** The next status of the link with the given state (or the current one, if it is in it). */
export function reach(link: KeyboardLink, state: LinkState, timeoutMs = 5000): Promise<LinkStatus> {
  if (link.status.state === state) return Promise.resolve(link.status);
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      link.off('status', on);
      reject(new Error(`timed out waiting for '${state}' (now '${link.status.state}': ${link.status.reason ?? ''})`));
    }, timeoutMs);
    const on = (s: LinkStatus): void => {
      if (s.state !== state) return;
      clearTimeout(timer);
      link.off('status', on);
      resolve(s);
    };
    link.on('status', on);
  });
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * A keyboard on an in-memory cable. Bytes cross asynchronously (setImmediate), as on a real
 * port. `plugged` decides whether the port can be opened; `unplug()` closes an open one.
 */
export class MemoryKeyboard {
  session: DeviceSession | undefined;
  plugged = true;
  failWrites = false;
  /** Host messages seen by the keyboard, in order. */
  readonly received: Message[] = [];
  readonly statuses: string[] = [];
  display = '';
  opens = 0;
  private host: PortHandlers | undefined;

  constructor(private readonly sessionOptions: Partial<DeviceSessionOptions> = {}) {}

  readonly open: PortOpener = (path, handlers) => {
    if (!this.plugged) return Promise.reject(new Error(`No such file or directory, cannot open ${path}`));
    this.opens++;
    this.host = handlers;
    this.session = new DeviceSession({
      nowUs: () => Math.floor(performance.now() * 1000) % 2 ** 32,
      ackTimeoutMs: 30,
      hostTimeoutMs: 2000,
      ...this.sessionOptions,
      write: (bytes) => {
        const h = this.host;
        const copy = bytes.slice();
        setImmediate(() => h === this.host && h?.onData(copy));
      },
      onHostMessage: (m) => this.received.push(m),
      onStatus: (led) => this.statuses.push(led),
      onReply: (m) => (this.display = m.first ? m.text : this.display + m.text),
    });
    const session = this.session;
    const conn: PortConnection = {
      path,
      write: (bytes) => {
        if (this.failWrites) return Promise.reject(new Error('Input/output error'));
        const copy = bytes.slice();
        setImmediate(() => this.session === session && session.receive(copy));
        return Promise.resolve();
      },
      close: () => {
        if (this.session === session) this.disconnect();
        return Promise.resolve();
      },
    };
    return Promise.resolve(conn);
  };

  /** Pulls the cable: the host's port closes with an error and the keyboard loses power. */
  unplug(): void {
    this.plugged = false;
    const host = this.host;
    this.disconnect();
    host?.onClose(new Error('device disconnected'));
  }

  /** Raw bytes from the keyboard to the host (noise, hand-made frames). */
  inject(bytes: Uint8Array): void {
    const h = this.host;
    setImmediate(() => h?.onData(bytes));
  }

  private disconnect(): void {
    this.session?.close();
    this.session = undefined;
    this.host = undefined;
  }
}

/** Timings short enough for tests, long enough for a loaded CI machine. */
export const FAST = {
  handshakeTimeoutMs: 60,
  handshakeTries: 3,
  heartbeatIntervalMs: 40,
  heartbeatTimeoutMs: 200,
  ackTimeoutMs: 40,
  maxTries: 4,
  backoffInitialMs: 10,
  backoffMaxMs: 40,
};
