// What a command is to the CLI: a name, its usage line, and run(). Commands
// parse their own argv (see args.ts), so a command with subcommands (device
// simulate|monitor) fits the same shape. Adding a command = one file in
// commands/ + one line in commands/index.ts.

export interface CliIo {
  /** Data only: the JSON object(s) with --json, the generated text without. */
  readonly stdout: NodeJS.WritableStream;
  /** Everything meant for a person: progress, summaries, errors. */
  readonly stderr: NodeJS.WritableStream;
  readonly env: NodeJS.ProcessEnv;
  /** Aborted at the first Ctrl-C, for commands that are `interruptible`. */
  readonly signal: AbortSignal;
}

export interface Command {
  readonly name: string;
  /** One line for `keymate --help`. */
  readonly summary: string;
  /** The usage line, printed with a usage error. */
  readonly usage: string;
  /** Option help for `keymate <command> --help`. */
  readonly help?: string;
  /**
   * True when the command stops cleanly on io.signal (the first Ctrl-C);
   * otherwise Ctrl-C ends the process at once, as it would any program.
   */
  readonly interruptible?: boolean;
  /** Resolves to the exit code; throws CliError (exit 1) or UsageError (exit 2). */
  run(argv: readonly string[], io: CliIo): Promise<number>;
}
