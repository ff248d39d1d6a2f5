// The byte-level protocol in TypeScript: CRC and COBS against their published values, and the
// properties that matter on a noisy line, checked over generated inputs (fast-check):
// decode(encode(m)) = m for every message, and no input at all makes the decoder throw.
import * as assert from 'node:assert/strict';
import { test } from 'node:test';
import { isDeepStrictEqual } from 'node:util';

import * as fc from 'fast-check';

import {
  FrameReader,
  MAX_ENCODED,
  MAX_PAYLOAD,
  chunkUtf8,
  cobsDecode,
  cobsEncode,
  cobsMaxEncodedLength,
  crc16,
  decodeFrame,
  decodeUtf8,
  encodeFrame,
  utf8Length,
  type Message,
} from '../../firmware-bridge/protocol';
import { message, utf8Text } from './arbitraries';

const RUNS = { numRuns: 2000 };

test('CRC-16/CCITT-FALSE check value: "123456789" -> 0x29B1', () => {
  assert.equal(crc16(new TextEncoder().encode('123456789')), 0x29b1);
  assert.equal(crc16(new Uint8Array(0)), 0xffff);
});

test('COBS: the published examples', () => {
  const cases: [number[], number[]][] = [
    [[0x00], [0x01, 0x01]],
    [[0x00, 0x00], [0x01, 0x01, 0x01]],
    [[0x11, 0x22, 0x00, 0x33], [0x03, 0x11, 0x22, 0x02, 0x33]],
    [[0x11, 0x22, 0x33, 0x44], [0x05, 0x11, 0x22, 0x33, 0x44]],
    [[0x11, 0x00, 0x00, 0x00], [0x02, 0x11, 0x01, 0x01, 0x01]],
  ];
  for (const [data, encoded] of cases) {
    assert.deepEqual([...cobsEncode(Uint8Array.from(data))], encoded);
    assert.deepEqual([...(cobsDecode(Uint8Array.from(encoded)) ?? [])], data);
  }
  const run254 = Uint8Array.from({ length: 254 }, (_, i) => i + 1);
  assert.deepEqual([...cobsEncode(run254)], [0xff, ...run254]);
});

test('COBS: round trip, no zero inside, within the overhead bound', () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 1200 }), (data) => {
      const enc = cobsEncode(data);
      assert.ok(!enc.includes(0));
      assert.ok(enc.length <= cobsMaxEncodedLength(data.length));
      assert.deepEqual(cobsDecode(enc), data);
    }),
    RUNS,
  );
});

test('COBS: arbitrary bytes decode or are refused, never throw', () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 600 }), (bytes) => {
      const out = cobsDecode(bytes);
      if (out !== null) assert.deepEqual(cobsEncode(out).length <= bytes.length + 1, true);
    }),
    RUNS,
  );
});

test('decode(encode(m)) = m for every message', () => {
  fc.assert(
    fc.property(message, (m: Message) => {
      const frame = encodeFrame(m);
      assert.equal(frame[frame.length - 1], 0);
      assert.ok(!frame.subarray(0, -1).includes(0), 'no 0x00 inside a frame');
      assert.ok(frame.length - 1 <= MAX_ENCODED);
      assert.deepEqual(decodeFrame(frame.subarray(0, -1)), { ok: true, message: m });
    }),
    { numRuns: 3000 },
  );
});

test('arbitrary bytes never throw out of the decoder; whatever it accepts re-encodes to the same bytes', () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => {
      const segment = bytes.filter((b) => b !== 0);
      const r = decodeFrame(segment);
      if (r.ok) assert.deepEqual(encodeFrame(r.message).subarray(0, -1), segment);
    }),
    { numRuns: 5000 },
  );
});

test('frames with one byte changed are refused or re-encode exactly (no loose acceptance)', () => {
  fc.assert(
    fc.property(message, fc.nat(), fc.integer({ min: 1, max: 255 }), (m, at, value) => {
      const frame = encodeFrame(m).subarray(0, -1).slice();
      frame[at % frame.length] = value;
      const r = decodeFrame(frame);
      if (r.ok) assert.deepEqual(encodeFrame(r.message).subarray(0, -1), frame);
    }),
    { numRuns: 5000 },
  );
});

test('the stream reader never throws and counts every delimited frame once', () => {
  fc.assert(
    fc.property(fc.array(fc.uint8Array({ maxLength: 400 }), { maxLength: 8 }), (chunks) => {
      const reader = new FrameReader();
      let results = 0;
      for (const c of chunks) results += reader.push(c).length;
      const s = reader.stats;
      assert.equal(s.frames + s.malformed, results);
      assert.equal(Object.values(s.errors).reduce((a, b) => a + b, 0), s.malformed);
      assert.equal(s.bytes, chunks.reduce((a, c) => a + c.length, 0));
    }),
    RUNS,
  );
});

test('frames arrive whole however the stream is cut into reads', () => {
  fc.assert(
    fc.property(fc.array(message, { minLength: 1, maxLength: 12 }), fc.array(fc.nat(), { maxLength: 10 }), (messages, cuts) => {
      const stream = Buffer.concat(messages.map((m) => encodeFrame(m)));
      const points = [...new Set(cuts.map((c) => c % (stream.length + 1)))].sort((a, b) => a - b);
      const reader = new FrameReader();
      const got: Message[] = [];
      let from = 0;
      for (const to of [...points, stream.length]) {
        for (const r of reader.push(stream.subarray(from, to))) {
          assert.ok(r.ok);
          got.push(r.message);
        }
        from = to;
      }
      assert.deepEqual(got, messages);
    }),
    RUNS,
  );
});

test('noise between frames costs only the noise: valid frames around it all arrive', () => {
  fc.assert(
    fc.property(fc.array(fc.tuple(message, fc.uint8Array({ maxLength: 700 })), { minLength: 1, maxLength: 8 }), (pairs) => {
      // each frame is followed by noise and the 0x00 that ends it
      const stream = Buffer.concat(pairs.flatMap(([m, noise]) => [encodeFrame(m), noise, Uint8Array.of(0)]));
      const reader = new FrameReader();
      const valid = reader.push(stream).filter((r) => r.ok).map((r) => r.message);
      const sent = pairs.map(([m]) => m);
      // Noise can, once in a great while, be a valid frame itself: every sent frame must be there, in order.
      let i = 0;
      for (const m of valid) if (i < sent.length && isDeepStrictEqual(m, sent[i])) i++;
      assert.equal(i, sent.length);
    }),
    RUNS,
  );
});

test('the encoder refuses what could not be decoded back', () => {
  const h = { seq: 1, ackRequested: false, retransmit: false };
  const bad: Message[] = [
    { ...h, type: 'text', text: 'x'.repeat(MAX_PAYLOAD + 1) },
    { ...h, type: 'text', text: 'lone \ud800 surrogate' },
    { ...h, type: 'hello', protocol: 1, firmware: '1.2', capabilities: 0, deviceId: 'a' },
    { ...h, type: 'hello', protocol: 1, firmware: '01.2.3', capabilities: 0, deviceId: 'a' },
    { ...h, type: 'hello', protocol: 1, firmware: '1.2.256', capabilities: 0, deviceId: 'a' },
    { ...h, type: 'hello', protocol: 1, firmware: '1.2.3', capabilities: 0, deviceId: '' },
    { ...h, type: 'hello', protocol: 1, firmware: '1.2.3', capabilities: 0, deviceId: 'tab\there' },
    { ...h, type: 'key', code: 0x10000, state: 'down', tDeviceUs: 0 },
    { ...h, type: 'key', code: 1, state: 'down', tDeviceUs: -1 },
    { ...h, type: 'gpio', line: 1.5, level: 1, tDeviceUs: 0 },
    { ...h, type: 'ping', token: 2 ** 32 },
    { ...h, seq: 0x10000, type: 'ping', token: 0 },
    { ...h, type: 'status', led: 'blinking' as never },
    { ...h, type: 'nack', ackSeq: 1, reason: 'tired' as never },
    { ...h, type: 'reply', replyId: 1, first: true, last: true, text: 'é'.repeat(119) },
  ];
  for (const m of bad) assert.throws(() => encodeFrame(m), RangeError, JSON.stringify(m));
});

test('chunkUtf8: pieces within the budget, cut between characters, joined back unchanged', () => {
  fc.assert(
    fc.property(utf8Text(3000), fc.integer({ min: 4, max: 300 }), (text, max) => {
      const chunks = chunkUtf8(text, max);
      assert.equal(chunks.join(''), text);
      for (const c of chunks) {
        assert.ok(utf8Length(c) <= max);
        assert.equal(decodeUtf8(new TextEncoder().encode(c)), c);
      }
      if (text !== '') assert.ok(chunks.every((c) => c !== ''));
    }),
    RUNS,
  );
});
