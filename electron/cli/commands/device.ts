// keymate device simulate|monitor: the keyboard link from the command line (DESIGN.md).
//   simulate --link PATH   a pseudo-terminal keyboard; stdin commands, host messages as JSON lines
//   monitor [--port PATH]  the host side; every event as a JSON line, stdin: led, reply, quit
// Both always print JSON lines (they are streams); --json is accepted for uniformity.
// The work is in firmware-bridge/tools/, which takes its streams as arguments (for tests).
import { DEFAULT_USB_MATCH, usbId, type UsbMatch } from '../../../firmware-bridge/host/discovery';
import { runMonitor } from '../../../firmware-bridge/tools/monitor';
import { SIMULATOR_COMMANDS, runSimulate } from '../../../firmware-bridge/tools/simulate';
import { optionHelp, parseOptions, usageLine } from '../args';
import type { Command } from '../command';
import { CliError, EXIT_OK, UsageError } from '../errors';

const simulateSpecs = {
  link: { kind: 'string', placeholder: 'PATH', required: true, help: 'where the port appears (a symlink to the pty)' },
  json: { kind: 'flag', help: 'accepted; the output is always JSON lines' },
} as const;

const monitorSpecs = {
  port: { kind: 'string', placeholder: 'PATH', help: 'the serial port; without it, found by USB id' },
  usb: {
    kind: 'string',
    placeholder: 'VID:PID',
    help: `USB vendor:product id in hex to look for (default ${usbId(DEFAULT_USB_MATCH)})`,
  },
  serial: { kind: 'string', placeholder: 'SERIAL', help: 'only the keyboard with this USB serial number' },
  json: { kind: 'flag', help: 'accepted; the output is always JSON lines' },
} as const;

const usage = `keymate device simulate --link PATH | keymate device monitor [--port PATH] [--usb VID:PID] [--serial SERIAL]`;

export const deviceCommand: Command = {
  name: 'device',
  summary: 'simulate a keyboard on a pseudo-terminal, or monitor one',
  usage,
  help:
    `simulate: ${usageLine('device simulate', simulateSpecs)}\n${optionHelp(simulateSpecs)}\n` +
    `  stdin: ${SIMULATOR_COMMANDS}\n` +
    `  Needs python3 (or $KEYMATE_PYTHON) to unlock its pseudo-terminal; without it, it says so and\n` +
    `  exits 1.\n\n` +
    `monitor: ${usageLine('device monitor', monitorSpecs)}\n${optionHelp(monitorSpecs)}\n` +
    `  stdin: led idle|listening|thinking|replying|error, reply TEXT, quit`,
  interruptible: true,
  async run(argv, io) {
    const [sub, ...rest] = argv;
    const streams = { stdin: process.stdin, stdout: io.stdout, stderr: io.stderr, signal: io.signal };
    if (sub === 'simulate') {
      const o = parseOptions('device simulate', simulateSpecs, rest);
      await failsAsCliError(runSimulate(o.link, streams));
      return EXIT_OK;
    }
    if (sub === 'monitor') {
      const o = parseOptions('device monitor', monitorSpecs, rest);
      const options: Parameters<typeof runMonitor>[0] = {};
      if (o.port !== undefined) options.port = o.port;
      if (o.usb !== undefined || o.serial !== undefined) options.usb = parseUsb(o.usb, o.serial);
      await failsAsCliError(runMonitor(options, streams));
      return EXIT_OK;
    }
    throw new UsageError(
      sub === undefined ? 'device: say simulate or monitor' : `device: unknown subcommand '${sub}' (simulate, monitor)`,
      usage,
    );
  },
};

function parseUsb(text: string | undefined, serial: string | undefined): UsbMatch {
  const m = text === undefined ? null : /^([0-9a-fA-F]{1,4}):([0-9a-fA-F]{1,4})$/.exec(text);
  if (text !== undefined && !m) throw new UsageError(`device monitor: --usb must be VID:PID in hex, got '${text}'`, usage);
  const match: UsbMatch = m ? { vendorId: parseInt(m[1] ?? '', 16), productId: parseInt(m[2] ?? '', 16) } : { ...DEFAULT_USB_MATCH };
  if (serial !== undefined) match.serialNumber = serial;
  return match;
}

async function failsAsCliError(work: Promise<void>): Promise<void> {
  try {
    await work;
  } catch (e) {
    throw new CliError(e instanceof Error ? e.message : String(e));
  }
}
