// The `keymate` command line (DESIGN.md, "The command line"): finds the
// command, runs it, and turns every outcome into an exit code and, on
// failure, one line on stderr. `main` is pure over its CliIo, for tests;
// `run` binds it to the process (bin/keymate calls it).
import { packageVersion } from '../host/engine/package-root';
import { usageHelp } from './args';
import type { CliIo, Command } from './command';
import { commands } from './commands';
import { CliError, EXIT_ERROR, EXIT_INTERRUPTED, EXIT_OK, EXIT_USAGE, UsageError, errorLine, oneLine } from './errors';

function overview(): string {
  const width = Math.max(...commands.map((c) => c.name.length));
  const list = commands.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`).join('\n');
  return (
    `usage: keymate <command> [options] [--json]\n\n${list}\n\n` +
    `keymate <command> --help shows its options. --json prints one JSON object on stdout.\n` +
    `KEYMATE_HOME sets the data folder (settings, history, models).\n`
  );
}

export async function main(argv: readonly string[], io: CliIo): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined) {
    io.stderr.write(overview());
    return EXIT_USAGE;
  }
  if (name === '--help' || name === '-h' || name === 'help') {
    io.stdout.write(overview());
    return EXIT_OK;
  }
  if (name === '--version') {
    io.stdout.write(packageVersion() + '\n');
    return EXIT_OK;
  }
  const command = findCommand(name);
  if (command === undefined) {
    io.stderr.write(`keymate: unknown command '${oneLine(name)}'\n${overview().split('\n')[0] ?? ''}\n`);
    return EXIT_USAGE;
  }
  if (rest.includes('--help') || rest.includes('-h')) {
    io.stdout.write(`${usageHelp(command.usage)}\n${command.help !== undefined ? command.help + '\n' : ''}`);
    return EXIT_OK;
  }
  try {
    return await command.run(rest, io);
  } catch (e) {
    return report(e, io);
  }
}

export function findCommand(name: string): Command | undefined {
  return commands.find((c) => c.name === name);
}

function report(e: unknown, io: CliIo): number {
  if (e instanceof UsageError) {
    io.stderr.write(`keymate: ${oneLine(e.message)}\n`);
    if (e.usage !== undefined) io.stderr.write(`usage: ${e.usage}\n`);
    return EXIT_USAGE;
  }
  io.stderr.write(errorLine(e) + '\n');
  // Anything but a CliError or an engine error is a bug in keymate: the stack helps.
  if (!(e instanceof CliError) && io.env['KEYMATE_DEBUG'] !== undefined && e instanceof Error && e.stack !== undefined) {
    io.stderr.write(e.stack + '\n');
  }
  return EXIT_ERROR;
}

/** Runs the CLI in this process and sets process.exitCode (bin/keymate). */
export function run(argv: readonly string[]): void {
  const controller = new AbortController();
  const command = argv[0] !== undefined ? findCommand(argv[0]) : undefined;
  let interrupts = 0;
  const onSigint = (): void => {
    interrupts++;
    // The first Ctrl-C asks an interruptible command to stop cleanly; a second
    // one, or one during a command that cannot stop, ends the process now.
    if (interrupts === 1 && command?.interruptible === true) controller.abort();
    else process.exit(EXIT_INTERRUPTED);
  };
  process.on('SIGINT', onSigint);
  // `keymate generate ... | head -1` closes our stdout early: that is not an error.
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code !== 'EPIPE') process.stderr.write(errorLine(`stdout: ${err.message}`) + '\n');
    process.exit(err.code === 'EPIPE' ? EXIT_OK : EXIT_ERROR);
  });
  const io: CliIo = { stdout: process.stdout, stderr: process.stderr, env: process.env, signal: controller.signal };
  main(argv, io).then(
    (code) => {
      process.exitCode = code;
      process.off('SIGINT', onSigint);
    },
    (e: unknown) => {
      process.stderr.write(errorLine(e) + '\n');
      process.exitCode = EXIT_ERROR;
    },
  );
}
