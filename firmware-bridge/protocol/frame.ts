// One frame on the wire: COBS(version, type, seq u16 LE, flags, payload, CRC u16 LE) then 0x00.
// decodeFrame checks in a fixed order (cobs, length, crc, version, flags, type, payload/utf8)
// and names the first failure; the C decoder uses the same order, so both sides classify every
// malformed frame alike. Once the CRC holds, the header is trusted and returned with the error,
// which lets a receiver NACK a frame it cannot use (an unknown type from a newer sender).

import {
  CRC_SIZE,
  DELIMITER,
  FrameFlag,
  HEADER_SIZE,
  MAX_ENCODED,
  MIN_BODY,
  MessageType,
  PROTOCOL_VERSION,
  RESERVED_FLAGS,
  type FrameError,
} from './constants';
import { cobsDecode, cobsEncode } from './cobs';
import { crc16 } from './crc16';
import type { FrameHeader, Message } from './messages';
import { decodePayload, encodePayload } from './payload';

/** A header whose CRC checked out, returned alongside errors found after the CRC. */
export interface TrustedHeader extends FrameHeader {
  type: number;
}

export type DecodeResult =
  | { ok: true; message: Message }
  | { ok: false; error: FrameError; header?: TrustedHeader };

/** The body (before COBS): header, payload and CRC. */
export function encodeBody(m: Message): Uint8Array {
  const payload = encodePayload(m);
  if (!Number.isInteger(m.seq) || m.seq < 0 || m.seq > 0xffff) throw new RangeError(`seq: ${m.seq} is not a u16`);
  const body = new Uint8Array(HEADER_SIZE + payload.length + CRC_SIZE);
  const view = new DataView(body.buffer);
  body[0] = PROTOCOL_VERSION;
  body[1] = MessageType[m.type];
  view.setUint16(2, m.seq, true);
  body[4] = (m.ackRequested ? FrameFlag.ackRequested : 0) | (m.retransmit ? FrameFlag.retransmit : 0);
  body.set(payload, HEADER_SIZE);
  view.setUint16(body.length - CRC_SIZE, crc16(body, 0, body.length - CRC_SIZE), true);
  return body;
}

/** The bytes to write: COBS-encoded body and the 0x00 delimiter. */
export function encodeFrame(m: Message): Uint8Array {
  const blocks = cobsEncode(encodeBody(m));
  const frame = new Uint8Array(blocks.length + 1);
  frame.set(blocks);
  frame[blocks.length] = DELIMITER;
  return frame;
}

/** Decodes one frame as it came off the wire, without its 0x00. Never throws. */
export function decodeFrame(encoded: Uint8Array): DecodeResult {
  if (encoded.length > MAX_ENCODED) return { ok: false, error: 'overflow' };
  const body = cobsDecode(encoded);
  if (body === null) return { ok: false, error: 'cobs' };
  if (body.length < MIN_BODY) return { ok: false, error: 'length' };
  const view = new DataView(body.buffer, body.byteOffset, body.byteLength);
  const crcAt = body.length - CRC_SIZE;
  if (view.getUint16(crcAt, true) !== crc16(body, 0, crcAt)) return { ok: false, error: 'crc' };

  const flags = body[4] as number;
  const header: TrustedHeader = {
    type: body[1] as number,
    seq: view.getUint16(2, true),
    ackRequested: (flags & FrameFlag.ackRequested) !== 0,
    retransmit: (flags & FrameFlag.retransmit) !== 0,
  };
  if (body[0] !== PROTOCOL_VERSION) return { ok: false, error: 'version', header };
  if ((flags & RESERVED_FLAGS) !== 0) return { ok: false, error: 'flags', header };
  const { type, ...frameHeader } = header;
  const result = decodePayload(type, frameHeader, body.subarray(HEADER_SIZE, crcAt));
  return result.ok ? result : { ok: false, error: result.error, header };
}
