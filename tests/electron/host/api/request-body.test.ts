// A request body read with a limit: a declared length over it is refused
// before a byte is read, a body that grows past it stops being read at the
// limit (a 10 MB body is not taken in), and what is not JSON is a 400 that
// says why.
import * as assert from 'node:assert/strict';
import type { IncomingMessage } from 'node:http';
import { Readable } from 'node:stream';
import { test } from 'node:test';

import { ApiError } from '../../../../electron/host/api/api-error';
import { MAX_BODY_BYTES, parseJson, readBody } from '../../../../electron/host/api/request-body';

const CHUNK = 64 * 1024;

/** A request whose body is `total` bytes in 64 KiB chunks, made only when read; `pulled` counts what was. */
function request(total: number, headers: Record<string, string> = {}): { req: IncomingMessage; pulled: () => number } {
  let pulled = 0;
  const stream = new Readable({
    highWaterMark: CHUNK,
    read() {
      if (pulled >= total) {
        this.push(null);
        return;
      }
      const n = Math.min(CHUNK, total - pulled);
      pulled += n;
      this.push(Buffer.alloc(n, 0x20));
    },
  });
  return { req: Object.assign(stream, { headers }) as unknown as IncomingMessage, pulled: () => pulled };
}

test('a body under the limit is read whole', async () => {
  const { req } = request(1000);
  assert.equal((await readBody(req)).length, 1000);
});

test('a declared length over the limit is refused before a byte is read', async () => {
  const { req, pulled } = request(10 << 20, { 'content-length': String(10 << 20) });
  await assert.rejects(readBody(req), (e: unknown) => e instanceof ApiError && e.status === 413 && /over the limit of 1048576 bytes/.test(e.message));
  assert.equal(pulled(), 0);
});

test('a 10 MB body with no length stops being read at the limit', async () => {
  const { req, pulled } = request(10 << 20);
  await assert.rejects(readBody(req), (e: unknown) => e instanceof ApiError && e.status === 413);
  await new Promise((r) => setTimeout(r, 20));
  assert.ok(pulled() <= MAX_BODY_BYTES + 3 * CHUNK, `read ${pulled()} bytes of 10 MiB`);
});

test('not JSON: a 400 saying where; nothing at all: a 400 saying so', () => {
  assert.deepEqual(parseJson(Buffer.from('{"a":1}')), { a: 1 });
  assert.throws(
    () => parseJson(Buffer.from('{"model": ')),
    (e: unknown) => e instanceof ApiError && e.status === 400 && e.code === 'invalid_json' && /^invalid JSON: /.test(e.message),
  );
  assert.throws(
    () => parseJson(Buffer.alloc(0)),
    (e: unknown) => e instanceof ApiError && e.status === 400 && /empty/.test(e.message),
  );
});
