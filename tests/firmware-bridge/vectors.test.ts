// The shared vectors (firmware-bridge/vectors/frames.json) against the TypeScript side; the C
// side runs the same file (firmware-bridge/device/tests/test_vectors.c). Also checks that
// every example in PROTOCOL.md decodes to the meaning written next to it, so the document
// cannot drift from the code.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';

import {
  FrameReader,
  MessageType,
  cobsDecode,
  cobsEncode,
  crc16,
  decodeFrame,
  encodeFrame,
  type Message,
} from '../../firmware-bridge/protocol';
import { root } from '../support/repo';
import { fromHex, loadVectors, toHex } from './vectors';

const v = loadVectors();

test('vectors: CRC', () => {
  assert.ok(v.crc16.length > 0);
  for (const c of v.crc16) assert.equal(crc16(fromHex(c.data)), c.crc, c.name);
});

test('vectors: COBS both ways', () => {
  assert.ok(v.cobs.length > 0);
  for (const c of v.cobs) {
    assert.equal(toHex(cobsEncode(fromHex(c.data))), c.encoded, c.name);
    assert.equal(toHex(cobsDecode(fromHex(c.encoded)) ?? new Uint8Array([0xde, 0xad])), c.data, c.name);
  }
});

test('vectors: every frame decodes to its meaning and its meaning encodes to it', () => {
  const types = new Set<string>();
  for (const f of v.frames) {
    const bytes = fromHex(f.frame);
    assert.equal(bytes[bytes.length - 1], 0, `${f.name}: ends in 00`);
    assert.deepEqual(decodeFrame(bytes.subarray(0, -1)), { ok: true, message: f.message }, f.name);
    assert.equal(toHex(encodeFrame(f.message)), f.frame, f.name);
    types.add(f.message.type);
  }
  assert.deepEqual([...types].sort(), Object.keys(MessageType).sort(), 'every message type has a vector');
});

test('vectors: every malformed frame fails with its error', () => {
  const kinds = new Set<string>();
  for (const f of v.malformed) {
    const bytes = fromHex(f.frame);
    const r = decodeFrame(bytes.subarray(0, -1));
    assert.ok(!r.ok && r.error === f.error, `${f.name}: got ${JSON.stringify(r)}`);
    kinds.add(f.error);
  }
  for (const k of ['cobs', 'length', 'overflow', 'crc', 'version', 'flags', 'type', 'payload', 'utf8']) {
    assert.ok(kinds.has(k), `a malformed vector for '${k}'`);
  }
});

test('vectors: streams give their results, fed whole or cut anywhere', () => {
  for (const s of v.streams) {
    const bytes = fromHex(s.bytes);
    for (let cut = 0; cut <= bytes.length; cut++) {
      const reader = new FrameReader();
      const got = [...reader.push(bytes.subarray(0, cut)), ...reader.push(bytes.subarray(cut))].map((r) =>
        r.ok ? { message: r.message } : { error: r.error },
      );
      assert.deepEqual(got, s.results, `${s.name} (cut at ${cut})`);
    }
  }
});

/**
 * PROTOCOL.md examples are blocks of lines
 *   meaning: {"type":"key",...}
 *   wire:    04 01 02 ...
 * (with an optional `body:` line between: the body before COBS, header | payload | CRC) and
 * every `wire` must decode to the `meaning` just above it.
 */
test('PROTOCOL.md: every example decodes to the meaning written above it, one per message type at least', () => {
  const doc = fs.readFileSync(path.join(root, 'firmware-bridge', 'PROTOCOL.md'), 'utf8').split('\n');
  let meaning: Message | undefined;
  let body: string | undefined;
  const types = new Set<string>();
  let examples = 0;
  for (const line of doc) {
    const m = /^meaning:\s+(\{.*\})\s*$/.exec(line);
    if (m) meaning = JSON.parse(m[1] ?? '') as Message;
    const b = /^body:\s+([0-9a-f |-]+)$/.exec(line);
    if (b) body = (b[1] ?? '').replace(/[ |-]/g, '');
    const w = /^wire:\s+([0-9a-f ]+)$/.exec(line);
    if (!w) continue;
    assert.ok(meaning, `a meaning line before '${line}'`);
    const bytes = fromHex((w[1] ?? '').replace(/ /g, ''));
    assert.equal(bytes[bytes.length - 1], 0, `'${line}' ends in 00`);
    assert.deepEqual(decodeFrame(bytes.subarray(0, -1)), { ok: true, message: meaning }, line);
    if (body !== undefined) assert.equal(toHex(cobsDecode(bytes.subarray(0, -1)) ?? new Uint8Array()), body, `body of ${line}`);
    types.add(meaning.type);
    meaning = undefined;
    body = undefined;
    examples++;
  }
  assert.ok(examples >= 10, `found ${examples} examples`);
  assert.deepEqual([...types].sort(), Object.keys(MessageType).sort(), 'an example of every message type');
});
