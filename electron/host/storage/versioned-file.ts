// One JSON document on disk with a format name and a version:
//   {"format": "keymate-settings", "version": 1, "data": {...}}
// Loading migrates an older version step by step (v1 -> v2 -> ...) and checks
// the result against the current schema. A file that cannot be understood
// (not JSON, another format, a failed migration or check, a version from a
// newer Keymate) is never reset silently: it is renamed aside to
// <name>.corrupt-<time> (or .newer-<time>), the defaults are used, and the
// caller gets a notice to show the user. A format that can `repair` (the
// settings) keeps every field that is still valid and resets only the others;
// the file as it was is still set aside, so nothing is lost.
// Whatever the file held reaches a message only through printable(): a
// corrupt file's bytes can be anything, terminal escapes included. A file that cannot be READ (no
// permission, I/O error) is not corrupt: that is thrown, so the caller can
// refuse to write over something it did not see.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { z } from 'zod';

import { printable, quoted } from '../../../common/printable';
import { removeStaleTemps, syncFolder, writeFileAtomic } from './atomic-file';

/** Turns data of version `from` into data of version `from + 1`. */
export interface Migration {
  readonly from: number;
  migrate(data: unknown): unknown;
}

export interface VersionedFormat<T> {
  /** "settings" -> format "keymate-settings". */
  readonly kind: string;
  readonly version: number;
  readonly schema: z.ZodType<T>;
  readonly migrations: readonly Migration[];
  defaults(): T;
  /** The valid part of data that failed the schema, and the fields reset to their defaults; null when nothing is salvageable. */
  repair?(data: unknown): { data: T; reset: string[] } | null;
}

export type LoadStatus = 'loaded' | 'created' | 'migrated' | 'repaired' | 'kept-aside';

export interface Loaded<T> {
  data: T;
  status: LoadStatus;
  /** kept-aside, repaired: where the file as it was went, and why it was set aside. */
  keptAs?: string;
  problem?: string;
  /** repaired: the fields reset to their defaults (dotted paths). */
  reset?: string[];
}

class Unusable extends Error {
  constructor(
    message: string,
    readonly suffix: 'corrupt' | 'newer' = 'corrupt',
    /** What could be kept of the file, when the format can repair it. */
    readonly repaired: { data: unknown; reset: string[] } | null = null,
  ) {
    super(message);
  }
}

export function formatName(kind: string): string {
  return `keymate-${kind}`;
}

export function serialize<T>(format: VersionedFormat<T>, data: T): string {
  return JSON.stringify({ format: formatName(format.kind), version: format.version, data }, null, 1) + '\n';
}

export async function loadVersioned<T>(file: string, format: VersionedFormat<T>, now: () => Date = () => new Date()): Promise<Loaded<T>> {
  await removeStaleTemps(file);
  let text: string;
  try {
    text = await fs.promises.readFile(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return { data: format.defaults(), status: 'created' };
    throw new Error(`${file}: cannot be read: ${(e as Error).message}`);
  }
  try {
    const { data, migrated } = decode(text, format);
    return { data, status: migrated ? 'migrated' : 'loaded' };
  } catch (e) {
    if (!(e instanceof Unusable)) throw e;
    const keptAs = `${file}.${e.suffix}-${now().toISOString().replace(/[:.]/g, '-')}`;
    await fs.promises.rename(file, keptAs);
    await syncFolder(path.dirname(file));
    if (e.repaired !== null) return { data: e.repaired.data as T, status: 'repaired', keptAs, problem: e.message, reset: e.repaired.reset };
    return { data: format.defaults(), status: 'kept-aside', keptAs, problem: e.message };
  }
}

function decode<T>(text: string, format: VersionedFormat<T>): { data: T; migrated: boolean } {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    throw new Unusable(`not valid JSON (${printable((e as Error).message, 120)})`);
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) throw new Unusable('not a JSON object');
  const { format: name, version, data } = doc as Record<string, unknown>;
  if (name !== formatName(format.kind)) throw new Unusable(`not a ${formatName(format.kind)} file (format ${shown(name)})`);
  if (typeof version !== 'number' || !Number.isInteger(version) || version < 1) throw new Unusable(`bad version ${shown(version)}`);
  if (version > format.version) {
    throw new Unusable(`written by a newer Keymate (version ${version}; this one reads up to ${format.version})`, 'newer');
  }
  let current = data;
  for (let v = version; v < format.version; v++) {
    const step = format.migrations.find((m) => m.from === v);
    if (step === undefined) throw new Unusable(`no migration from version ${v}`);
    try {
      current = step.migrate(current);
    } catch (e) {
      throw new Unusable(`migration from version ${v} failed: ${printable((e as Error).message, 120)}`);
    }
  }
  const checked = format.schema.safeParse(current);
  if (!checked.success) {
    const issue = checked.error.issues[0];
    const where = issue !== undefined && issue.path.length > 0 ? printable(issue.path.map(String).join('.'), 60) + ': ' : '';
    const repaired = format.repair?.(current) ?? null;
    throw new Unusable(`does not match version ${format.version}: ${where}${printable(issue?.message ?? 'invalid', 120)}`, 'corrupt', repaired);
  }
  return { data: checked.data, migrated: version !== format.version };
}

/** A value from the file, for a message: JSON, escaped and cut short. */
function shown(value: unknown): string {
  if (typeof value === 'string') return quoted(value, 40);
  let text: string;
  try {
    text = JSON.stringify(value) ?? String(value);
  } catch {
    text = String(value);
  }
  return printable(text, 40);
}

/**
 * Field-by-field repair of an object schema: each field of `value` that is
 * valid on its own is kept, nested objects are repaired the same way, and
 * every other field takes its default. Unknown fields are dropped (and named).
 * Null when `value` is not an object at all: then nothing can be kept.
 */
export function repairFields<T>(schema: z.ZodType<T>, value: unknown, defaults: T): { data: T; reset: string[] } | null {
  if (typeof value !== 'object' || value === null || Array.isArray(value) || !(schema instanceof z.ZodObject)) return null;
  const reset: string[] = [];
  const data = repairObject(schema, value as Record<string, unknown>, defaults as Record<string, unknown>, '', reset);
  const checked = schema.safeParse(data);
  return checked.success ? { data: checked.data as T, reset } : null;
}

function repairObject(schema: z.ZodObject, value: Record<string, unknown>, defaults: Record<string, unknown>, prefix: string, reset: string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, field] of Object.entries<z.ZodType>(schema.shape)) {
    const where = prefix + key;
    const given = value[key];
    if (field.safeParse(given).success) {
      out[key] = given;
    } else if (field instanceof z.ZodObject && typeof given === 'object' && given !== null && !Array.isArray(given)) {
      out[key] = repairObject(field, given as Record<string, unknown>, defaults[key] as Record<string, unknown>, where + '.', reset);
    } else {
      out[key] = defaults[key];
      reset.push(where);
    }
  }
  for (const key of Object.keys(value)) if (!(key in out)) reset.push(`${prefix}${printable(key, 40)} (unknown)`);
  return out;
}

export async function saveVersioned<T>(file: string, format: VersionedFormat<T>, data: T): Promise<void> {
  await fs.promises.mkdir(path.dirname(file), { recursive: true });
  await writeFileAtomic(file, serialize(format, data));
}
