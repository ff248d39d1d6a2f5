// Payload layouts, one encoder and one decoder per message type, all little-endian.
// Decoders never throw: a wrong length or an out-of-range field is 'payload', bad text 'utf8'.
// Encoders throw RangeError on a message that could not be decoded back (a caller bug), so
// that nothing invalid ever reaches the wire.

import {
  LED_STATES,
  MAX_DEVICE_ID,
  MAX_PAYLOAD,
  MessageType,
  NACK_REASONS,
  ReplyFlag,
  type FrameError,
} from './constants';
import { MAX_REPLY_TEXT, type FrameHeader, type Message } from './messages';
import { decodeUtf8, encodeUtf8 } from './utf8';

type PayloadResult = { ok: true; message: Message } | { ok: false; error: FrameError };

function u16(v: number, what: string): number {
  if (!Number.isInteger(v) || v < 0 || v > 0xffff) throw new RangeError(`${what}: ${v} is not a u16`);
  return v;
}
function u8(v: number, what: string): number {
  if (!Number.isInteger(v) || v < 0 || v > 0xff) throw new RangeError(`${what}: ${v} is not a u8`);
  return v;
}
function u32(v: number, what: string): number {
  if (!Number.isInteger(v) || v < 0 || v > 0xffffffff) throw new RangeError(`${what}: ${v} is not a u32`);
  return v;
}

function isDeviceId(id: string): boolean {
  return id.length >= 1 && id.length <= MAX_DEVICE_ID && /^[\x20-\x7e]+$/.test(id);
}

function parseVersion(v: string): [number, number, number] {
  // Canonical decimal only ("1.2.3", not "01.2.3"), so that decode(encode(m)) gives m back.
  const parts = v.split('.');
  if (parts.length !== 3 || parts.some((p) => !/^(0|[1-9][0-9]{0,2})$/.test(p) || Number(p) > 255)) {
    throw new RangeError(`firmware: "${v}" is not major.minor.patch with parts 0..255`);
  }
  return [Number(parts[0]), Number(parts[1]), Number(parts[2])];
}

export function encodePayload(m: Message): Uint8Array {
  switch (m.type) {
    case 'hello': {
      const [major, minor, patch] = parseVersion(m.firmware);
      if (!isDeviceId(m.deviceId)) throw new RangeError(`deviceId: "${m.deviceId}" is not 1..32 printable ASCII`);
      const out = new Uint8Array(9 + m.deviceId.length);
      const view = new DataView(out.buffer);
      out[0] = u8(m.protocol, 'protocol');
      out[1] = major;
      out[2] = minor;
      out[3] = patch;
      view.setUint32(4, u32(m.capabilities, 'capabilities'), true);
      out[8] = m.deviceId.length;
      for (let i = 0; i < m.deviceId.length; i++) out[9 + i] = m.deviceId.charCodeAt(i);
      return out;
    }
    case 'key': {
      const out = new Uint8Array(7);
      const view = new DataView(out.buffer);
      view.setUint16(0, u16(m.code, 'code'), true);
      out[2] = m.state === 'down' ? 1 : 0;
      view.setUint32(3, u32(m.tDeviceUs, 'tDeviceUs'), true);
      return out;
    }
    case 'gpio': {
      const out = new Uint8Array(6);
      out[0] = u8(m.line, 'line');
      if (m.level !== 0 && m.level !== 1) throw new RangeError(`level: ${String(m.level)} is not 0 or 1`);
      out[1] = m.level;
      new DataView(out.buffer).setUint32(2, u32(m.tDeviceUs, 'tDeviceUs'), true);
      return out;
    }
    case 'text': {
      const bytes = encodeUtf8(m.text);
      if (bytes.length > MAX_PAYLOAD) throw new RangeError(`text: ${bytes.length} bytes, at most ${MAX_PAYLOAD} per frame`);
      return bytes;
    }
    case 'ping': {
      const out = new Uint8Array(4);
      new DataView(out.buffer).setUint32(0, u32(m.token, 'token'), true);
      return out;
    }
    case 'pong': {
      const out = new Uint8Array(8);
      const view = new DataView(out.buffer);
      view.setUint32(0, u32(m.token, 'token'), true);
      view.setUint32(4, u32(m.clockUs, 'clockUs'), true);
      return out;
    }
    case 'status': {
      const code = LED_STATES.indexOf(m.led);
      if (code < 0) throw new RangeError(`led: "${String(m.led)}" is not a LED state`);
      return Uint8Array.of(code);
    }
    case 'reply': {
      const text = encodeUtf8(m.text);
      if (text.length > MAX_REPLY_TEXT) throw new RangeError(`text: ${text.length} bytes, at most ${MAX_REPLY_TEXT} per chunk`);
      const out = new Uint8Array(3 + text.length);
      new DataView(out.buffer).setUint16(0, u16(m.replyId, 'replyId'), true);
      out[2] = (m.first ? ReplyFlag.first : 0) | (m.last ? ReplyFlag.last : 0);
      out.set(text, 3);
      return out;
    }
    case 'ack': {
      const out = new Uint8Array(2);
      new DataView(out.buffer).setUint16(0, u16(m.ackSeq, 'ackSeq'), true);
      return out;
    }
    case 'nack': {
      const code = NACK_REASONS.indexOf(m.reason) + 1;
      if (code < 1) throw new RangeError(`reason: "${String(m.reason)}" is not a NACK reason`);
      const out = new Uint8Array(3);
      new DataView(out.buffer).setUint16(0, u16(m.ackSeq, 'ackSeq'), true);
      out[2] = code;
      return out;
    }
  }
}

/** `type` must already be a known type code. */
export function decodePayload(type: number, header: FrameHeader, p: Uint8Array): PayloadResult {
  const view = new DataView(p.buffer, p.byteOffset, p.byteLength);
  const bad: PayloadResult = { ok: false, error: 'payload' };
  const at = (i: number): number => p[i] as number;
  switch (type) {
    case MessageType.hello: {
      if (p.length < 10) return bad;
      const idLength = at(8);
      if (p.length !== 9 + idLength) return bad;
      let deviceId = '';
      for (let i = 9; i < p.length; i++) deviceId += String.fromCharCode(at(i));
      if (!isDeviceId(deviceId)) return bad;
      return {
        ok: true,
        message: {
          type: 'hello',
          ...header,
          protocol: at(0),
          firmware: `${at(1)}.${at(2)}.${at(3)}`,
          capabilities: view.getUint32(4, true),
          deviceId,
        },
      };
    }
    case MessageType.key: {
      if (p.length !== 7 || at(2) > 1) return bad;
      return {
        ok: true,
        message: {
          type: 'key',
          ...header,
          code: view.getUint16(0, true),
          state: at(2) === 1 ? 'down' : 'up',
          tDeviceUs: view.getUint32(3, true),
        },
      };
    }
    case MessageType.gpio: {
      if (p.length !== 6 || at(1) > 1) return bad;
      return {
        ok: true,
        message: { type: 'gpio', ...header, line: at(0), level: at(1) === 1 ? 1 : 0, tDeviceUs: view.getUint32(2, true) },
      };
    }
    case MessageType.text: {
      const text = decodeUtf8(p);
      if (text === null) return { ok: false, error: 'utf8' };
      return { ok: true, message: { type: 'text', ...header, text } };
    }
    case MessageType.ping: {
      if (p.length !== 4) return bad;
      return { ok: true, message: { type: 'ping', ...header, token: view.getUint32(0, true) } };
    }
    case MessageType.pong: {
      if (p.length !== 8) return bad;
      return {
        ok: true,
        message: { type: 'pong', ...header, token: view.getUint32(0, true), clockUs: view.getUint32(4, true) },
      };
    }
    case MessageType.status: {
      const led = p.length === 1 ? LED_STATES[at(0)] : undefined;
      if (led === undefined) return bad;
      return { ok: true, message: { type: 'status', ...header, led } };
    }
    case MessageType.reply: {
      if (p.length < 3 || (at(2) & ~(ReplyFlag.first | ReplyFlag.last)) !== 0) return bad;
      const text = decodeUtf8(p.subarray(3));
      if (text === null) return { ok: false, error: 'utf8' };
      return {
        ok: true,
        message: {
          type: 'reply',
          ...header,
          replyId: view.getUint16(0, true),
          first: (at(2) & ReplyFlag.first) !== 0,
          last: (at(2) & ReplyFlag.last) !== 0,
          text,
        },
      };
    }
    case MessageType.ack: {
      if (p.length !== 2) return bad;
      return { ok: true, message: { type: 'ack', ...header, ackSeq: view.getUint16(0, true) } };
    }
    case MessageType.nack: {
      const reason = p.length === 3 ? NACK_REASONS[at(2) - 1] : undefined;
      if (reason === undefined) return bad;
      return { ok: true, message: { type: 'nack', ...header, ackSeq: view.getUint16(0, true), reason } };
    }
    default:
      return { ok: false, error: 'type' };
  }
}
