// Declarative options for the commands: each command lists its options once,
// and that list drives parsing (node:util parseArgs, strict), conversion and
// range checks, the usage line, and the TypeScript type of the parsed result.
// Option keys are camelCase; on the command line they are kebab-case
// (maxTokens -> --max-tokens). Every mistake is a UsageError (exit code 2).
import { parseArgs } from 'node:util';

import { UsageError } from './errors';

interface Base {
  readonly help: string;
  readonly required?: boolean;
}
export interface StringOption extends Base {
  readonly kind: 'string';
  readonly placeholder: string;
  readonly default?: string;
}
export interface EnumOption<C extends string = string> extends Base {
  readonly kind: 'enum';
  readonly choices: readonly C[];
  readonly default?: C;
}
export interface NumberOption extends Base {
  readonly kind: 'int' | 'number';
  readonly placeholder: string;
  readonly min: number;
  readonly max: number;
  /** The value must be above min, not equal to it (top-p: (0, 1]). */
  readonly minExclusive?: boolean;
  readonly default?: number;
}
export interface FlagOption extends Base {
  readonly kind: 'flag';
}
export type OptionSpec = StringOption | EnumOption | NumberOption | FlagOption;
export type OptionSpecs = Readonly<Record<string, OptionSpec>>;

type ValueOf<O> = O extends FlagOption
  ? boolean
  : O extends NumberOption
    ? number
    : O extends EnumOption<infer C>
      ? C
      : string;

/** Flags are always present (false when absent); options with a default or `required` too. */
export type Parsed<S extends OptionSpecs> = {
  readonly [K in keyof S]: S[K] extends FlagOption
    ? boolean
    : S[K] extends { readonly required: true } | { readonly default: unknown }
      ? ValueOf<S[K]>
      : ValueOf<S[K]> | undefined;
};

export function flagName(key: string): string {
  return '--' + key.replace(/[A-Z]/g, (c) => '-' + c.toLowerCase());
}

/** "keymate generate --model PATH [--max-tokens N] [--backend auto|cpu|cuda]". */
export function usageLine(command: string, specs: OptionSpecs): string {
  const parts = Object.entries(specs).map(([key, spec]) => {
    const flag = flagName(key);
    let text: string;
    switch (spec.kind) {
      case 'flag':
        text = flag;
        break;
      case 'enum':
        text = `${flag} ${spec.choices.join('|')}`;
        break;
      default:
        text = `${flag} ${spec.placeholder}`;
    }
    return spec.required === true ? text : `[${text}]`;
  });
  return ['keymate', command, ...parts].join(' ');
}

/** --help fits a terminal of this many columns. */
export const HELP_COLUMNS = 100;
/** Options wider than this (a long list of choices) get their own line, so the descriptions stay in one column. */
const OPTION_COLUMN = 28;

/** Multi-line help: each option with its help text and default, wrapped to HELP_COLUMNS. */
export function optionHelp(specs: OptionSpecs): string {
  const rows = Object.entries(specs).map(([key, spec]) => {
    const left =
      spec.kind === 'flag'
        ? flagName(key)
        : `${flagName(key)} ${spec.kind === 'enum' ? spec.choices.join('|') : spec.placeholder}`;
    const dflt = 'default' in spec && spec.default !== undefined ? ` (default ${String(spec.default)})` : '';
    return [left, spec.help + dflt] as const;
  });
  const width = Math.min(OPTION_COLUMN, Math.max(0, ...rows.map(([left]) => left.length)));
  const indent = ' '.repeat(2 + width + 2);
  return rows
    .map(([left, right]) => {
      const text = fitLines(right.split(' '), HELP_COLUMNS - indent.length, ' ');
      const head = left.length <= width ? [`  ${left.padEnd(width)}  ${text[0] ?? ''}`] : [...fitLines([left], HELP_COLUMNS - 4, ' ').map((l, i) => (i === 0 ? '  ' : '    ') + l), indent + (text[0] ?? '')];
      return [...head, ...text.slice(1).map((t) => indent + t)].join('\n');
    })
    .join('\n');
}

/** A usage line as --help shows it: wrapped between options, continuation lines indented. */
export function usageHelp(usage: string): string {
  const prefix = 'usage: ';
  const parts = usage.split(/ (?=\[|--)/);
  return fitLines(parts, HELP_COLUMNS - prefix.length, ' ')
    .map((l, i) => (i === 0 ? prefix : ' '.repeat(prefix.length + 2)) + l)
    .join('\n');
}

/**
 * Pieces joined by `sep` into lines of at most `width` characters; a piece
 * longer than that (a long list of choices) is broken after a '|'.
 */
function fitLines(pieces: readonly string[], width: number, sep: string): string[] {
  const lines: string[] = [];
  let line = '';
  const push = (piece: string, joiner: string): void => {
    if (line !== '' && line.length + joiner.length + piece.length > width) {
      lines.push(line);
      line = piece;
    } else {
      line = line === '' ? piece : line + joiner + piece;
    }
  };
  for (const piece of pieces.filter((p) => p !== '')) {
    if (piece.length <= width) {
      push(piece, sep);
      continue;
    }
    const choices = piece.split('|');
    push(choices[0] ?? '', sep);
    for (const c of choices.slice(1)) {
      if (line.length + 1 + c.length > width) {
        lines.push(line + '|');
        line = c;
      } else {
        line += '|' + c;
      }
    }
  }
  if (line !== '') lines.push(line);
  return lines;
}

export function parseOptions<S extends OptionSpecs>(command: string, specs: S, argv: readonly string[]): Parsed<S> {
  const usage = usageLine(command, specs);
  const config: Record<string, { type: 'string' | 'boolean' }> = {};
  const keyOfFlag = new Map<string, string>();
  for (const [key, spec] of Object.entries(specs)) {
    const name = flagName(key).slice(2);
    config[name] = { type: spec.kind === 'flag' ? 'boolean' : 'string' };
    keyOfFlag.set(name, key);
  }
  let values: Record<string, string | boolean | (string | boolean)[] | undefined>;
  try {
    ({ values } = parseArgs({ args: joinNegativeValues(argv, config), options: config, strict: true, allowPositionals: false }));
  } catch (e) {
    // parseArgs words its errors well ("Unknown option '--foo'"); keep them, minus its hints.
    const message = e instanceof Error ? e.message.split('. To specify')[0] ?? e.message : String(e);
    throw new UsageError(`${command}: ${message}`, usage);
  }

  const out: Record<string, unknown> = {};
  for (const [key, spec] of Object.entries(specs)) {
    const raw = values[flagName(key).slice(2)];
    const flag = flagName(key);
    if (spec.kind === 'flag') {
      out[key] = raw === true;
      continue;
    }
    if (raw === undefined) {
      if (spec.required === true) throw new UsageError(`${command}: ${flag} is required`, usage);
      out[key] = spec.default;
      continue;
    }
    const text = String(raw);
    out[key] = convert(command, flag, spec, text, usage);
  }
  return out as Parsed<S>;
}

/**
 * `--seed -1` as `--seed=-1`: parseArgs takes a value that starts with '-'
 * for an option of its own and answers "argument is ambiguous"; joined, the
 * value reaches the range check, which names the option and its range.
 */
function joinNegativeValues(argv: readonly string[], config: Record<string, { type: 'string' | 'boolean' }>): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] ?? '';
    const next = argv[i + 1];
    if (arg.startsWith('--') && config[arg.slice(2)]?.type === 'string' && next !== undefined && /^-[\d.]/.test(next)) {
      out.push(`${arg}=${next}`);
      i++;
    } else {
      out.push(arg);
    }
  }
  return out;
}

function convert(command: string, flag: string, spec: OptionSpec, text: string, usage: string): unknown {
  switch (spec.kind) {
    case 'string':
      if (text === '' && spec.required === true) throw new UsageError(`${command}: ${flag} must not be empty`, usage);
      return text;
    case 'enum':
      if (!spec.choices.includes(text)) {
        throw new UsageError(`${command}: ${flag} must be one of ${spec.choices.join(', ')}, got '${text}'`, usage);
      }
      return text;
    case 'int':
    case 'number': {
      const pattern = spec.kind === 'int' ? /^[+-]?\d+$/ : /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;
      const value = Number(text);
      if (!pattern.test(text.trim()) || !Number.isFinite(value)) {
        throw new UsageError(`${command}: ${flag} must be ${spec.kind === 'int' ? 'an integer' : 'a number'}, got '${text}'`, usage);
      }
      const low = spec.minExclusive === true ? value <= spec.min : value < spec.min;
      if (low || value > spec.max || (spec.kind === 'int' && !Number.isSafeInteger(value))) {
        throw new UsageError(`${command}: ${flag} must be in ${spec.minExclusive === true ? '(' : '['}${spec.min}, ${spec.max}], got ${text}`, usage);
      }
      return value;
    }
    case 'flag':
      return true;
  }
}
