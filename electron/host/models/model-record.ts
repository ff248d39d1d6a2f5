// The record beside each model the library brought in, models/<name>.gguf.json:
// where it came from, its SHA-256, when it arrived, and what the engine read
// from it (with the size and mtime it was read at, so a file replaced by hand
// is read again). A model without a record was put there by hand ("found").
// A record that cannot be read is ignored, never fatal: the model still lists.
import * as fs from 'node:fs';
import { z } from 'zod';

import { LIBRARY_ORIGINS, ModelFacts, Sha256Hex } from '../../../common/contract';
import { writeFileAtomic } from '../storage/atomic-file';

const FORMAT = 'keymate-model-record';

export const ModelRecord = z.strictObject({
  format: z.literal(FORMAT),
  version: z.literal(1),
  origin: z.enum(LIBRARY_ORIGINS),
  source: z.string().nullable(),
  sha256: Sha256Hex.nullable(),
  added_ms: z.number().nullable(),
  /** The size and mtime `facts` were read at. */
  size_bytes: z.number().int().nonnegative(),
  mtime_ms: z.number(),
  facts: ModelFacts.nullable(),
});
export type ModelRecord = z.infer<typeof ModelRecord>;

export function newRecord(fields: Omit<ModelRecord, 'format' | 'version'>): ModelRecord {
  return { format: FORMAT, version: 1, ...fields };
}

export async function readRecord(file: string): Promise<ModelRecord | null> {
  let text: string;
  try {
    text = await fs.promises.readFile(file, 'utf8');
  } catch {
    return null;
  }
  try {
    const r = ModelRecord.safeParse(JSON.parse(text));
    return r.success ? r.data : null;
  } catch {
    return null;
  }
}

export function writeRecord(file: string, record: ModelRecord): Promise<void> {
  return writeFileAtomic(file, JSON.stringify(record, null, 1) + '\n');
}
