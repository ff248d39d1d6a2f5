// The two ways a command fails, and how each reads on stderr (DESIGN.md):
// a CliError is a problem with the input or the machine -> exit code 1 and
// one line `keymate: <what>: <what is wrong>`; a UsageError is a malformed
// command line -> exit code 2, the problem and the command's usage line.

import { printable } from '../../common/printable';

/** Long enough for any message of ours; a longer one carries somebody else's text. */
const MAX_LINE_CHARS = 1000;

export const EXIT_OK = 0;
export const EXIT_ERROR = 1;
export const EXIT_USAGE = 2;
/** The shell's code for "stopped by Ctrl-C" (128 + SIGINT). */
export const EXIT_INTERRUPTED = 130;

export class CliError extends Error {
  override readonly name = 'CliError';
}

export class UsageError extends Error {
  override readonly name = 'UsageError';
  /** The usage line of the command that was misused, when known. */
  usage: string | undefined;
  constructor(message: string, usage?: string) {
    super(message);
    this.usage = usage;
  }
}

/**
 * One line, whatever the message held: a multi-line message would break the
 * contract, and bytes from a hostile file (escapes, controls) must not reach
 * the terminal as they are.
 */
export function oneLine(message: string): string {
  return printable(message.replace(/\s*\n\s*/g, ' ').trim(), MAX_LINE_CHARS);
}

/** The stderr line for any failure. Engine errors already start with what they are about. */
export function errorLine(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return `keymate: ${oneLine(message)}`;
}
