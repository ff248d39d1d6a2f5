// The command registry: `keymate <name>` runs the entry with that name, and
// `keymate --help` lists them in this order. Adding a command is one import
// and one entry here.
import type { Command } from '../command';
import { benchCommand } from './bench';
import { deviceCommand } from './device';
import { evalCommand } from './eval';
import { generateCommand } from './generate';
import { infoCommand } from './info';
import { modelsCommand } from './models';
import { serveCommand } from './serve';
import { synthCommand } from './synth';

export const commands: readonly Command[] = [
  generateCommand,
  benchCommand,
  synthCommand,
  evalCommand,
  infoCommand,
  modelsCommand,
  deviceCommand,
  serveCommand,
];
