// `keymate device monitor [--port PATH]`: connects as the app does and prints every event as
// a JSON line: keyboard events ({type, key, state, seq, t_device_us, t_host_ms}, latency_ms
// once the clocks are in step), link state changes ({type: "link", state, reason, ...}) and
// dropped frames ({type: "malformed", error}). Commands on stdin drive the keyboard's outputs:
// `led STATE`, `reply TEXT`, `quit`. The end of stdin does not stop it (it may run with no
// input at all); `quit` or the abort signal (Ctrl-C) does.

import * as readline from 'node:readline';

import { KeyboardLink, type KeyboardLinkOptions } from '../host/keyboard-link';
import { LED_STATES, type LedState } from '../protocol';
import { jsonLine, splitCommand } from './json-lines';

export interface MonitorIo {
  stdin: NodeJS.ReadableStream;
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
  signal?: AbortSignal;
}

const round3 = (x: number): number => Math.round(x * 1000) / 1000;

export async function runMonitor(options: KeyboardLinkOptions, io: MonitorIo): Promise<void> {
  const out = (value: Record<string, unknown>): void => void io.stdout.write(jsonLine(value));
  const say = (text: string): void => void io.stderr.write(`monitor: ${text}\n`);
  const link = new KeyboardLink(options);

  link.on('status', (s) => {
    out({ type: 'link', ...s, tHostMs: round3(performance.timeOrigin + performance.now()) });
    if (s.state === 'disconnected' && s.reason !== undefined) say(`${s.reason}; retrying in ${s.retryInMs ?? 0} ms`);
  });
  link.on('key', (e) => {
    out({
      type: 'key',
      key: e.code,
      state: e.state,
      seq: e.seq,
      tDeviceUs: e.tDeviceUs,
      tHostMs: e.tHostMs,
      ...(e.latencyMs !== undefined ? { latencyMs: round3(e.latencyMs) } : {}),
    });
  });
  link.on('gpio', (e) => {
    out({
      type: 'gpio',
      line: e.line,
      level: e.level,
      seq: e.seq,
      tDeviceUs: e.tDeviceUs,
      tHostMs: e.tHostMs,
      ...(e.latencyMs !== undefined ? { latencyMs: round3(e.latencyMs) } : {}),
    });
  });
  link.on('text', (e) => out({ type: 'text', text: e.text, seq: e.seq, tHostMs: e.tHostMs }));
  link.on('malformed', (error) => out({ type: 'malformed', error, malformed: link.stats.reader.malformed }));
  link.on('warning', (text) => say(text));

  let quit: () => void = () => undefined;
  const stopped = new Promise<void>((resolve) => (quit = resolve));
  io.signal?.addEventListener('abort', () => quit(), { once: true });

  const lines = readline.createInterface({ input: io.stdin, crlfDelay: Infinity, terminal: false });
  lines.on('line', (line) => {
    const [verb, rest] = splitCommand(line);
    if (verb === '') return;
    if (verb === 'quit') quit();
    else if (verb === 'led') {
      if ((LED_STATES as readonly string[]).includes(rest)) link.setLed(rest as LedState);
      else say(`led: expected one of ${LED_STATES.join(', ')}, got '${rest}'`);
    } else if (verb === 'reply') {
      if (!link.sendReply(rest)) say('reply dropped: no keyboard with a display is connected');
    } else say(`unknown command '${line.trim()}' (commands: led STATE, reply TEXT, quit)`);
  });

  link.start();
  await stopped;
  lines.close();
  await link.stop();
  const stats = link.stats;
  say(
    `${stats.reader.frames} frames, ${stats.reader.malformed} malformed, ${stats.retransmits} retransmitted, ` +
      `${stats.connects} connects`,
  );
}
