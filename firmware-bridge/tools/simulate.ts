// `keymate device simulate --link PATH`: a pseudo-terminal keyboard driven from stdin, one
// command per line, printing every message the host sends it as a JSON line on stdout.
// Notices for people (plugged in, host connected, a command that was not understood) go to
// stderr. It ends at `quit`, at the end of stdin, or when `signal` aborts, and always unplugs
// on the way out so no dangling link is left behind.

import * as readline from 'node:readline';

import type { Message } from '../protocol';
import { SimulatedKeyboard, type SimResult } from '../sim/simulator';
import { jsonLine, splitCommand } from './json-lines';

export const SIMULATOR_COMMANDS =
  'press, release, gpio LINE 0|1, type TEXT, unplug, replug, garbage N, quit';

export interface SimulateIo {
  stdin: NodeJS.ReadableStream;
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
  signal?: AbortSignal;
}

export async function runSimulate(link: string, io: SimulateIo): Promise<void> {
  const say = (text: string): void => void io.stderr.write(`simulate: ${text}\n`);
  const sim = new SimulatedKeyboard({
    link,
    onHostMessage: (m: Message) => void io.stdout.write(jsonLine({ ...m })),
    onNotice: say,
  });
  await sim.plug();

  const lines = readline.createInterface({ input: io.stdin, crlfDelay: Infinity, terminal: false });
  const done = new Promise<void>((resolve) => {
    lines.once('close', resolve);
    io.signal?.addEventListener('abort', () => lines.close(), { once: true });
  });
  // Commands run one at a time, in order, even those that wait (unplug, replug).
  let queue = Promise.resolve();
  lines.on('line', (line) => {
    queue = queue.then(async () => {
      if ((await execute(sim, line, say)) === 'quit') lines.close();
    });
  });
  await done;
  await queue;
  await sim.close();
}

function report(say: (t: string) => void, what: string, r: SimResult): void {
  if (r === 'no-host') say(`${what} dropped: no host is connected`);
  if (r === 'unplugged') say(`${what} dropped: the keyboard is unplugged`);
}

async function execute(sim: SimulatedKeyboard, line: string, say: (t: string) => void): Promise<'quit' | undefined> {
  const [verb, rest] = splitCommand(line);
  switch (verb) {
    case '':
      return undefined;
    case 'press':
    case 'release':
      if (rest !== '') break;
      report(say, verb, verb === 'press' ? sim.press() : sim.release());
      return undefined;
    case 'gpio': {
      const m = /^(\d{1,3})\s+([01])$/.exec(rest);
      if (!m || Number(m[1]) > 255) {
        say(`gpio: expected 'gpio LINE 0|1' with LINE 0..255, got 'gpio ${rest}'`);
        return undefined;
      }
      report(say, 'gpio', sim.gpio(Number(m[1]), m[2] === '1' ? 1 : 0));
      return undefined;
    }
    case 'type':
      report(say, 'type', sim.type(rest));
      return undefined;
    case 'unplug':
      if (rest !== '') break;
      await sim.unplug();
      return undefined;
    case 'replug':
      if (rest !== '') break;
      await sim.unplug();
      await sim.plug();
      return undefined;
    case 'garbage': {
      const n = /^\d{1,7}$/.test(rest) ? Number(rest) : NaN;
      if (!(n >= 1 && n <= 1_000_000)) {
        say(`garbage: expected 'garbage N' with N 1..1000000, got 'garbage ${rest}'`);
        return undefined;
      }
      if (!sim.garbage(n)) say('garbage dropped: the keyboard is unplugged');
      return undefined;
    }
    case 'quit':
      return 'quit';
  }
  say(`unknown command '${line.trim()}' (commands: ${SIMULATOR_COMMANDS})`);
  return undefined;
}
