// Contract violations as one line a person can act on:
//   contract: request 'generate': field prompt: expected string, got number
// The first issue is enough to fix the message; the rest follow from it more
// often than not, and a log line that wraps helps nobody.
import type { z } from 'zod';

import { printable } from '../printable';

export type MessageKind = 'request' | 'response' | 'event';

export class ContractError extends Error {
  override readonly name = 'ContractError';
}

/** `input` is what was validated: the offending value is looked up in it by the issue's path. */
export function contractError(kind: MessageKind, name: string, error: z.ZodError, input: unknown): ContractError {
  const issue = error.issues[0];
  const detail = issue === undefined ? 'invalid' : describeIssue(issue, input);
  return new ContractError(`contract: ${kind} '${name}': ${detail}`);
}

export function unknownName(kind: MessageKind, name: unknown): ContractError {
  const shown = typeof name === 'string' ? `'${name.slice(0, 80)}'` : `name of type ${typeOf(name)}`;
  return new ContractError(`contract: unknown ${kind} ${shown}`);
}

function describeIssue(issue: z.core.$ZodIssue, input: unknown): string {
  const where = issue.path.length === 0 ? 'payload' : `field ${formatPath(issue.path)}`;
  return `${where}: ${describeProblem(issue, input)}`;
}

/** One issue's problem in words, without where it is (the caller names the field its own way). */
export function describeProblem(issue: z.core.$ZodIssue, input: unknown): string {
  switch (issue.code) {
    case 'invalid_type': {
      const at = valueAt(input, issue.path);
      if (!at.present) return `expected ${issue.expected}, missing`;
      // zod says "int" for a number that is not an integer: say which number.
      if (issue.expected === 'int' && typeof at.value === 'number') return `expected an integer, got ${at.value}`;
      return `expected ${issue.expected}, got ${typeOf(at.value)}`;
    }
    case 'unrecognized_keys':
      return `unknown field${issue.keys.length > 1 ? 's' : ''} ${issue.keys.join(', ')}`;
    case 'invalid_value':
      return `expected one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')}`;
    // An exclusive bound (top_p > 0) is not a minimum: say "must be above".
    case 'too_small':
      if (issue.inclusive === false) return `too small (must be above ${String(issue.minimum)})`;
      return `too small (minimum ${String(issue.minimum)}${issue.origin === 'string' ? ' characters' : ''})`;
    case 'too_big':
      if (issue.inclusive === false) return `too big (must be below ${String(issue.maximum)})`;
      return `too big (maximum ${String(issue.maximum)}${issue.origin === 'string' ? ' characters' : ''})`;
    case 'invalid_union':
      return 'matches none of the allowed shapes';
    default:
      return issue.message;
  }
}

/** What `input` holds at `path`, and whether anything is there. */
export function valueAt(input: unknown, path: readonly PropertyKey[]): { present: boolean; value?: unknown } {
  let value = input;
  for (const key of path) {
    if (typeof value !== 'object' || value === null || !Object.hasOwn(value, key)) return { present: false };
    value = (value as Record<PropertyKey, unknown>)[key];
  }
  return value === undefined ? { present: false } : { present: true, value };
}

/** data.alternate_greetings[2]; a key that is not a plain name is quoted. */
export function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const part of path) {
    if (typeof part === 'number') out += `[${part}]`;
    else if (typeof part === 'string' && /^[A-Za-z_][A-Za-z0-9_]*$/.test(part)) out += out === '' ? part : `.${part}`;
    else out += `[${JSON.stringify(printable(String(part), 40))}]`;
  }
  return out;
}

/** A value's kind in words: null, array, a non-finite number, or its typeof. */
export function typeOf(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  if (typeof value === 'number' && !Number.isFinite(value)) return String(value);
  return typeof value;
}
