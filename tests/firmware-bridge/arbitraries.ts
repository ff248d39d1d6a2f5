// fast-check generators for the protocol: every message type with every field over its whole
// range, text as any Unicode (astral planes included) cut to the byte budget of a frame.
import * as fc from 'fast-check';

import {
  LED_STATES,
  MAX_DEVICE_ID,
  MAX_PAYLOAD,
  MAX_REPLY_TEXT,
  NACK_REASONS,
  utf8Length,
  type Message,
} from '../../firmware-bridge/protocol';

const u8 = fc.integer({ min: 0, max: 0xff });
const u16 = fc.integer({ min: 0, max: 0xffff });
const u32 = fc.integer({ min: 0, max: 0xffffffff });

export const header = fc.record({ seq: u16, ackRequested: fc.boolean(), retransmit: fc.boolean() });

/** Any well-formed text of at most maxBytes UTF-8 bytes. */
export const utf8Text = (maxBytes: number): fc.Arbitrary<string> =>
  fc.string({ unit: 'binary', maxLength: maxBytes }).map((s) => {
    let out = '';
    for (const ch of s) {
      if (utf8Length(out + ch) > maxBytes) break;
      out += ch;
    }
    return out;
  });

const deviceId = fc.string({
  unit: fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)),
  minLength: 1,
  maxLength: MAX_DEVICE_ID,
});

const bodies = {
  hello: fc.record({
    type: fc.constant('hello' as const),
    protocol: u8,
    firmware: fc.tuple(u8, u8, u8).map((v) => v.join('.')),
    capabilities: u32,
    deviceId,
  }),
  key: fc.record({
    type: fc.constant('key' as const),
    code: u16,
    state: fc.constantFrom('down' as const, 'up' as const),
    tDeviceUs: u32,
  }),
  gpio: fc.record({ type: fc.constant('gpio' as const), line: u8, level: fc.constantFrom(0 as const, 1 as const), tDeviceUs: u32 }),
  text: fc.record({ type: fc.constant('text' as const), text: utf8Text(MAX_PAYLOAD) }),
  ping: fc.record({ type: fc.constant('ping' as const), token: u32 }),
  pong: fc.record({ type: fc.constant('pong' as const), token: u32, clockUs: u32 }),
  status: fc.record({ type: fc.constant('status' as const), led: fc.constantFrom(...LED_STATES) }),
  reply: fc.record({
    type: fc.constant('reply' as const),
    replyId: u16,
    first: fc.boolean(),
    last: fc.boolean(),
    text: utf8Text(MAX_REPLY_TEXT),
  }),
  ack: fc.record({ type: fc.constant('ack' as const), ackSeq: u16 }),
  nack: fc.record({ type: fc.constant('nack' as const), ackSeq: u16, reason: fc.constantFrom(...NACK_REASONS) }),
};

export const message: fc.Arbitrary<Message> = fc
  .tuple(header, fc.oneof(...Object.values(bodies)))
  .map(([h, body]): Message => ({ ...body, ...h }));
