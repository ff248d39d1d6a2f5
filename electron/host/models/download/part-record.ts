// The record beside a partial download, models/<name>.gguf.part.json: what
// is being fetched and how far the part file is known good. It is written
// before the first byte (so a restart always knows the URL), then at each
// checkpoint AFTER the part file was fsynced, so bytes_verified never claims
// bytes a power cut could take back. The validator (ETag or Last-Modified)
// goes into If-Range, so a file that changed on the server restarts from zero
// instead of splicing two versions.
import * as fs from 'node:fs';
import { z } from 'zod';

import { Sha256Hex } from '../../../../common/contract';
import { writeFileAtomic } from '../../storage/atomic-file';

const FORMAT = 'keymate-download';

export const PartRecord = z.strictObject({
  format: z.literal(FORMAT),
  version: z.literal(1),
  url: z.string(),
  name: z.string(),
  sha256_expected: Sha256Hex.nullable(),
  etag: z.string().nullable(),
  last_modified: z.string().nullable(),
  /** The whole file's length as the server announced it; null until known. */
  expected_length: z.number().int().nonnegative().nullable(),
  /** Bytes of the part file fsynced before this record was written. */
  bytes_verified: z.number().int().nonnegative(),
  created_ms: z.number(),
});
export type PartRecord = z.infer<typeof PartRecord>;

export function newPartRecord(url: string, name: string, sha256: string | null, now: number): PartRecord {
  return { format: FORMAT, version: 1, url, name, sha256_expected: sha256, etag: null, last_modified: null, expected_length: null, bytes_verified: 0, created_ms: now };
}

/** Null when missing or unreadable (a part without a usable record cannot be resumed). */
export async function readPartRecord(file: string): Promise<PartRecord | null> {
  try {
    const r = PartRecord.safeParse(JSON.parse(await fs.promises.readFile(file, 'utf8')));
    return r.success ? r.data : null;
  } catch {
    return null;
  }
}

export function writePartRecord(file: string, record: PartRecord): Promise<void> {
  return writeFileAtomic(file, JSON.stringify(record, null, 1) + '\n');
}

/** The If-Range value: a strong ETag, else Last-Modified (a weak ETag cannot validate a range). */
export function ifRange(record: PartRecord): string | null {
  if (record.etag !== null && !record.etag.startsWith('W/')) return record.etag;
  return record.last_modified;
}
