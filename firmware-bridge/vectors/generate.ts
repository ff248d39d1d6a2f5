// Writes vectors/frames.json, the test vectors shared by the TypeScript and the C sides:
//   node dist/firmware-bridge/vectors/generate.js > firmware-bridge/vectors/frames.json
// The frames come from the TypeScript encoder; the C test suite decoding and re-encoding them
// to the same meaning and bytes is what makes them a cross-check rather than a snapshot. The
// CRC check value and the COBS examples are the published ones, independent of both.
// Malformed frames are built byte by byte here, each breaking exactly one rule.

import {
  PROTOCOL_VERSION,
  cobsEncode,
  crc16,
  encodeBody,
  encodeFrame,
  type Message,
} from '../protocol';

type Vector = Record<string, unknown>;

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const bytes = (...parts: (number | number[] | Uint8Array)[]): Uint8Array =>
  Uint8Array.from(parts.flatMap((p) => (typeof p === 'number' ? [p] : Array.from(p))));

const h = { ackRequested: false, retransmit: false };
const ack = { ackRequested: true, retransmit: false };

const messages: [string, Message][] = [
  ['hello from the host', { type: 'hello', seq: 0, ...h, protocol: 1, firmware: '0.1.0', capabilities: 0x1f, deviceId: 'keymate-host' }],
  ['hello from a keyboard', { type: 'hello', seq: 0, ...h, protocol: 1, firmware: '1.4.2', capabilities: 0x1f, deviceId: 'KM-0001-A7F3' }],
  ['hello, minimal keyboard (key only, one-letter id)', { type: 'hello', seq: 0x0100, ...h, protocol: 1, firmware: '255.0.9', capabilities: 0x01, deviceId: 'k' }],
  ['AI key down', { type: 'key', seq: 1, ...ack, code: 0x0001, state: 'down', tDeviceUs: 1_000_000 }],
  ['AI key up', { type: 'key', seq: 2, ...ack, code: 0x0001, state: 'up', tDeviceUs: 1_085_250 }],
  ['maker key down, retransmitted, clock at its last tick', { type: 'key', seq: 3, ackRequested: true, retransmit: true, code: 0x0105, state: 'down', tDeviceUs: 0xffffffff }],
  ['GPIO line 3 high', { type: 'gpio', seq: 4, ...ack, line: 3, level: 1, tDeviceUs: 42 }],
  ['GPIO line 0 low, clock zero', { type: 'gpio', seq: 5, ...ack, line: 0, level: 0, tDeviceUs: 0 }],
  ['text, ASCII', { type: 'text', seq: 6, ...ack, text: 'hello' }],
  ['text, multi-byte UTF-8', { type: 'text', seq: 7, ...ack, text: 'héllo → 世界 🎹' }],
  ['text, empty', { type: 'text', seq: 8, ...ack, text: '' }],
  ['text with a NUL byte', { type: 'text', seq: 9, ...ack, text: 'a\u0000b' }],
  ['text, byte order mark kept', { type: 'text', seq: 10, ...ack, text: '\ufeffx' }],
  ['text, 240 bytes (the largest payload)', { type: 'text', seq: 11, ...ack, text: 'Keymate! '.repeat(26) + 'abcdef' }],
  ['ping', { type: 'ping', seq: 12, ...h, token: 0x12345678 }],
  ['pong', { type: 'pong', seq: 13, ...h, token: 0x12345678, clockUs: 0x9abcdef0 }],
  ['status idle', { type: 'status', seq: 14, ...ack, led: 'idle' }],
  ['status listening', { type: 'status', seq: 15, ...ack, led: 'listening' }],
  ['status thinking', { type: 'status', seq: 16, ...ack, led: 'thinking' }],
  ['status replying', { type: 'status', seq: 17, ...ack, led: 'replying' }],
  ['status error', { type: 'status', seq: 18, ...ack, led: 'error' }],
  ['reply, first chunk', { type: 'reply', seq: 19, ...ack, replyId: 7, first: true, last: false, text: 'Sure — here is' }],
  ['reply, last chunk', { type: 'reply', seq: 20, ...ack, replyId: 7, first: false, last: true, text: ' a haiku.' }],
  ['reply, one chunk, empty text', { type: 'reply', seq: 21, ...ack, replyId: 0xffff, first: true, last: true, text: '' }],
  ['ack', { type: 'ack', seq: 22, ...h, ackSeq: 1 }],
  ['nack busy', { type: 'nack', seq: 23, ...h, ackSeq: 0x0203, reason: 'busy' }],
  ['nack unsupported type', { type: 'nack', seq: 24, ...h, ackSeq: 4, reason: 'unsupported-type' }],
  ['nack bad payload', { type: 'nack', seq: 25, ...h, ackSeq: 5, reason: 'bad-payload' }],
  ['nack not ready', { type: 'nack', seq: 26, ...h, ackSeq: 6, reason: 'not-ready' }],
  ['seq at its largest', { type: 'ping', seq: 0xffff, ...h, token: 0 }],
];

/** A frame from a hand-made body; the CRC is computed unless `crc` is given. */
function rawFrame(headerAndPayload: Uint8Array, crc?: number): Uint8Array {
  const value = crc ?? crc16(headerAndPayload);
  return bytes(cobsEncode(bytes(headerAndPayload, value & 0xff, value >> 8)), 0);
}
const header = (type: number, seq: number, flags: number, version = PROTOCOL_VERSION): number[] => [
  version,
  type,
  seq & 0xff,
  seq >> 8,
  flags,
];

function malformed(): Vector[] {
  const keyDown = encodeBody(messages[3]![1]);
  const flipped = keyDown.slice();
  flipped[6] = (flipped[6] as number) ^ 0x01; // one payload bit, CRC left as it was
  const v = (name: string, frame: Uint8Array, error: string): Vector => ({ name, frame: hex(frame), error });
  return [
    v('COBS block longer than the frame', bytes(0x05, 0x01, 0x02, 0x00), 'cobs'),
    v('COBS block running past the end by one', bytes(0x09, 0x01, 0x02, 0x01, 0x00, 0x01, 0x02, 0x03, 0x00), 'cobs'),
    v('body of one byte', bytes(0x02, 0x01, 0x00), 'length'),
    v('body of six bytes (header and no CRC byte)', bytes(cobsEncode(bytes(header(0x05, 1, 0), 0xaa)), 0), 'length'),
    v('249 bytes without a delimiter', bytes(new Array<number>(249).fill(0x11), 0), 'overflow'),
    v('one payload bit flipped', bytes(cobsEncode(flipped), 0), 'crc'),
    v('CRC stored big-endian', rawFrame(bytes(header(0x07, 1, 0), 0), ((c) => ((c & 0xff) << 8) | (c >> 8))(crc16(bytes(header(0x07, 1, 0), 0)))), 'crc'),
    v('version 2', rawFrame(bytes(header(0x05, 1, 0, 2), 1, 2, 3, 4)), 'version'),
    v('version 0', rawFrame(bytes(header(0x05, 1, 0, 0), 1, 2, 3, 4)), 'version'),
    v('reserved flag bit 2 set', rawFrame(bytes(header(0x05, 1, 0x04), 1, 2, 3, 4)), 'flags'),
    v('reserved flag bit 7 set', rawFrame(bytes(header(0x05, 1, 0x81), 1, 2, 3, 4)), 'flags'),
    v('type 0x00', rawFrame(bytes(header(0x00, 1, 0x01))), 'type'),
    v('type 0x0b (from a newer sender)', rawFrame(bytes(header(0x0b, 1, 0x01), 9)), 'type'),
    v('key payload one byte short', rawFrame(bytes(header(0x02, 1, 0x01), 1, 0, 1, 0, 0, 0)), 'payload'),
    v('key state 2', rawFrame(bytes(header(0x02, 1, 0x01), 1, 0, 2, 0, 0, 0, 0)), 'payload'),
    v('gpio level 2', rawFrame(bytes(header(0x03, 1, 0x01), 1, 2, 0, 0, 0, 0)), 'payload'),
    v('status LED 5', rawFrame(bytes(header(0x07, 1, 0x01), 5)), 'payload'),
    v('status without payload', rawFrame(bytes(header(0x07, 1, 0x01))), 'payload'),
    v('ping payload too long', rawFrame(bytes(header(0x05, 1, 0), 1, 2, 3, 4, 5)), 'payload'),
    v('pong payload too short', rawFrame(bytes(header(0x06, 1, 0), 1, 2, 3, 4)), 'payload'),
    v('ack payload too long', rawFrame(bytes(header(0x09, 1, 0), 1, 0, 0)), 'payload'),
    v('nack reason 0', rawFrame(bytes(header(0x0a, 1, 0), 1, 0, 0)), 'payload'),
    v('nack reason 5', rawFrame(bytes(header(0x0a, 1, 0), 1, 0, 5)), 'payload'),
    v('hello id length says 3, 2 bytes follow', rawFrame(bytes(header(0x01, 0, 0), 1, 1, 0, 0, 0x1f, 0, 0, 0, 3, 0x41, 0x42)), 'payload'),
    v('hello with an empty id', rawFrame(bytes(header(0x01, 0, 0), 1, 1, 0, 0, 0x1f, 0, 0, 0, 0)), 'payload'),
    v('hello id with a control character', rawFrame(bytes(header(0x01, 0, 0), 1, 1, 0, 0, 0x1f, 0, 0, 0, 2, 0x41, 0x0a)), 'payload'),
    v('hello id of 33 characters', rawFrame(bytes(header(0x01, 0, 0), 1, 1, 0, 0, 0x1f, 0, 0, 0, 33, new Array<number>(33).fill(0x41))), 'payload'),
    v('reply with reserved chunk flag', rawFrame(bytes(header(0x08, 1, 0x01), 7, 0, 0x04, 0x41)), 'payload'),
    v('reply shorter than its header', rawFrame(bytes(header(0x08, 1, 0x01), 7, 0)), 'payload'),
    v('text, overlong NUL (C0 80)', rawFrame(bytes(header(0x04, 1, 0x01), 0xc0, 0x80)), 'utf8'),
    v('text, UTF-16 surrogate (ED A0 80)', rawFrame(bytes(header(0x04, 1, 0x01), 0xed, 0xa0, 0x80)), 'utf8'),
    v('text, above U+10FFFF (F4 90 80 80)', rawFrame(bytes(header(0x04, 1, 0x01), 0xf4, 0x90, 0x80, 0x80)), 'utf8'),
    v('text, cut mid-character (E2 82)', rawFrame(bytes(header(0x04, 1, 0x01), 0x61, 0xe2, 0x82)), 'utf8'),
    v('text, stray continuation byte', rawFrame(bytes(header(0x04, 1, 0x01), 0x80)), 'utf8'),
    v('text, overlong 3-byte form (E0 80 AF)', rawFrame(bytes(header(0x04, 1, 0x01), 0xe0, 0x80, 0xaf)), 'utf8'),
    v('text, byte F5', rawFrame(bytes(header(0x04, 1, 0x01), 0xf5, 0x80, 0x80, 0x80)), 'utf8'),
    v('reply text, invalid UTF-8', rawFrame(bytes(header(0x08, 1, 0x01), 7, 0, 0x01, 0xff)), 'utf8'),
  ];
}

function streams(): Vector[] {
  const f = (i: number): Uint8Array => encodeFrame(messages[i]![1]);
  const meaning = (i: number): Vector => ({ message: messages[i]![1] });
  const noise = bytes(0x13, 0x37, 0xff, 0x01);
  return [
    { name: 'two frames back to back', bytes: hex(bytes(f(3), f(4))), results: [meaning(3), meaning(4)] },
    { name: 'idle zeros around a frame are not errors', bytes: hex(bytes(0, 0, f(3), 0, 0, 0)), results: [meaning(3)] },
    {
      name: 'noise ended by 0x00 is one bad frame; the next frame arrives',
      bytes: hex(bytes(noise, 0, f(4))),
      results: [{ error: 'cobs' }, meaning(4)],
    },
    {
      name: 'noise glued to a frame spoils that frame only',
      bytes: hex(bytes(f(3), 0x42, f(4), f(6))),
      results: [meaning(3), { error: 'cobs' }, meaning(6)],
    },
    {
      name: 'an overlong run is counted once, then decoding resumes',
      bytes: hex(bytes(new Array<number>(600).fill(0x5a), 0, f(14))),
      results: [{ error: 'overflow' }, meaning(14)],
    },
    {
      name: 'a frame cut short by a 0x00 (a byte lost on the line)',
      bytes: hex(bytes(f(8).subarray(0, 5), 0, f(9))),
      results: [{ error: 'cobs' }, meaning(9)],
    },
  ];
}

function line(v: Vector): string {
  return '    ' + JSON.stringify(v);
}

function main(): void {
  const cobs: Vector[] = [
    ['empty', bytes()],
    ['one zero', bytes(0)],
    ['two zeros', bytes(0, 0)],
    ['zero in the middle', bytes(0x11, 0x22, 0x00, 0x33)],
    ['no zero', bytes(0x11, 0x22, 0x33, 0x44)],
    ['trailing zeros', bytes(0x11, 0x00, 0x00, 0x00)],
    ['254 non-zero bytes (one full block)', bytes(Array.from({ length: 254 }, (_, i) => i + 1))],
    ['a zero then 254 non-zero bytes', bytes(0, Array.from({ length: 254 }, (_, i) => i + 1))],
    ['255 non-zero bytes (a second block)', bytes(Array.from({ length: 255 }, (_, i) => i + 1))],
  ].map(([name, data]) => ({ name, data: hex(data as Uint8Array), encoded: hex(cobsEncode(data as Uint8Array)) }));

  const sections: [string, Vector[]][] = [
    ['crc16', [{ name: 'CRC-16/CCITT-FALSE check value', data: hex(new TextEncoder().encode('123456789')), crc: crc16(new TextEncoder().encode('123456789')) }]],
    ['cobs', cobs],
    ['frames', messages.map(([name, message]) => ({ name, frame: hex(encodeFrame(message)), message }))],
    ['malformed', malformed()],
    ['streams', streams()],
  ];
  const out = [
    '{',
    '  "about": "Keymate keyboard protocol v1 test vectors (firmware-bridge/PROTOCOL.md). Made by firmware-bridge/vectors/generate.ts; read by tests/firmware-bridge/vectors.test.ts and firmware-bridge/device/tests/test_vectors.c. Hex strings hold whole frames, 0x00 delimiter included.",',
    ...sections.map(([key, vectors], i) => `  "${key}": [\n${vectors.map(line).join(',\n')}\n  ]${i + 1 < sections.length ? ',' : ''}`),
    '}',
  ];
  process.stdout.write(out.join('\n') + '\n');
}

main();
