// The keyboard as the host uses it: a KeyboardLink on the chosen port (or
// found by USB id), its status turned into the contract's DeviceStatus, and
// its key, GPIO and text events handed to whoever drives the session.
//
// The link emits a status on every state change; frame errors change no state,
// so a burst of garbage would otherwise go unseen: those counters are sent at
// most every FRAME_STATS_INTERVAL_MS.
import { AI_KEY, KeyboardLink, type KeyboardLinkOptions, type LedState, type LinkStatus } from '../../../firmware-bridge';
import type { GpioEvent, KeyEvent, ReplyStream, TextEvent } from '../../../firmware-bridge';
import type { DeviceStatus } from '../../../common/contract';
import type { HostEvents } from '../host-events';
import type { Notices } from './notices';

const FRAME_STATS_INTERVAL_MS = 250;

export interface DeviceHandlers {
  aiKey(state: 'down' | 'up', event: KeyEvent): void;
  gpio(event: GpioEvent): void;
  text(event: TextEvent): void;
  /** The keyboard was connected and is not any more. */
  lost(): void;
}

export class DeviceService {
  private link: KeyboardLink | null = null;
  private port: string | null;
  private statsTimer: NodeJS.Timeout | undefined;
  private lastStatus: LinkStatus = { state: 'stopped', attempt: 0 };

  constructor(
    private readonly events: HostEvents,
    private readonly notices: Notices,
    private readonly handlers: DeviceHandlers,
    port: string | null,
    private readonly linkOptions: Omit<KeyboardLinkOptions, 'port'> = {},
  ) {
    this.port = port;
  }

  start(): void {
    if (this.link !== null) return;
    const options: KeyboardLinkOptions = { ...this.linkOptions };
    if (this.port !== null) options.port = this.port;
    const link = new KeyboardLink(options);
    this.link = link;
    link.on('status', (s) => {
      if (this.link !== link) return;
      const was = this.lastStatus.state;
      this.lastStatus = s;
      if (was === 'connected' && s.state !== 'connected') this.handlers.lost();
      this.events.emit('device', this.status());
    });
    link.on('key', (e) => {
      if (this.link === link && e.code === AI_KEY) this.handlers.aiKey(e.state, e);
    });
    link.on('gpio', (e) => {
      if (this.link === link) this.handlers.gpio(e);
    });
    link.on('text', (e) => {
      if (this.link === link) this.handlers.text(e);
    });
    link.on('malformed', () => this.scheduleStats());
    link.on('clock', () => {
      if (this.link === link) this.events.emit('device', this.status());
    });
    link.on('warning', (w) => {
      if (this.link === link) this.notices.add('warning', 'device-warning', `keyboard: ${w}`);
    });
    link.start();
  }

  async stop(): Promise<void> {
    const link = this.link;
    this.link = null;
    clearTimeout(this.statsTimer);
    this.statsTimer = undefined;
    if (link !== null) {
      await link.stop();
      link.removeAllListeners();
    }
    this.lastStatus = { state: 'stopped', attempt: 0, reason: 'stopped' };
  }

  /** Switches to another port (null = find the keyboard by USB id). */
  async usePort(port: string | null): Promise<void> {
    if (port === this.port) return;
    this.port = port;
    if (this.link === null) return;
    await this.stop();
    this.start();
  }

  setLed(led: LedState): void {
    this.link?.setLed(led);
  }

  /** A reply for the keyboard's display, streamed as it is written; null without one. */
  openReply(): ReplyStream | null {
    return this.link?.openReply() ?? null;
  }

  status(): DeviceStatus {
    const s = this.lastStatus;
    const stats = this.link?.stats;
    const byKind: Record<string, number> = { ...(stats?.reader.errors ?? {}) };
    return {
      state: s.state,
      connected: s.state === 'connected',
      port: s.port ?? this.port,
      reason: s.reason ?? null,
      device:
        s.device === undefined
          ? null
          : {
              device_id: s.device.deviceId,
              firmware: s.device.firmware,
              protocol: s.device.protocol,
              capabilities: { ...s.device.capabilities },
            },
      attempt: s.attempt,
      retry_in_ms: s.retryInMs ?? null,
      frames: stats?.reader.frames ?? 0,
      frame_errors: { total: stats?.reader.malformed ?? 0, by_kind: byKind },
      retransmits: stats?.retransmits ?? 0,
      clock_rtt_ms: stats?.clockRttUs === undefined ? null : stats.clockRttUs / 1000,
    };
  }

  private scheduleStats(): void {
    if (this.statsTimer !== undefined) return;
    this.statsTimer = setTimeout(() => {
      this.statsTimer = undefined;
      if (this.link !== null) this.events.emit('device', this.status());
    }, FRAME_STATS_INTERVAL_MS);
  }
}
