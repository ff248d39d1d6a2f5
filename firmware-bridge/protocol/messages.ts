// The decoded meaning of a frame: one discriminated union, one member per message type.
// Every message carries its frame header (seq and the two flags) so that decode(encode(m))
// is exactly m, and so the vectors file can state a frame's whole meaning as one object.
// Field names are the protocol's; units are in the names (Us = microseconds).

import type { LedState, NackReason } from './constants';

export interface FrameHeader {
  /** Sender's frame counter, u16, wrapping; a retransmission repeats the original's. */
  seq: number;
  ackRequested: boolean;
  retransmit: boolean;
}

export interface HelloMessage extends FrameHeader {
  type: 'hello';
  /** Highest protocol version the sender speaks. */
  protocol: number;
  /** Sender's software version, "major.minor.patch", each part 0..255. */
  firmware: string;
  /** Capability bits (constants.Capability). */
  capabilities: number;
  /** 1..32 printable ASCII characters. */
  deviceId: string;
}

export interface KeyMessage extends FrameHeader {
  type: 'key';
  /** 0x0001 is the AI key (constants.AI_KEY). */
  code: number;
  state: 'down' | 'up';
  /** Device clock at the edge, µs, u32 wrapping every ~71.6 minutes. */
  tDeviceUs: number;
}

export interface GpioMessage extends FrameHeader {
  type: 'gpio';
  line: number;
  level: 0 | 1;
  tDeviceUs: number;
}

export interface TextMessage extends FrameHeader {
  type: 'text';
  /** Typed while the AI key is held; at most 240 UTF-8 bytes per frame. */
  text: string;
}

export interface PingMessage extends FrameHeader {
  type: 'ping';
  /** Opaque to the receiver; the sender uses its own clock (µs, u32) to time the round trip. */
  token: number;
}

export interface PongMessage extends FrameHeader {
  type: 'pong';
  /** The PING's token, echoed. */
  token: number;
  /** The responder's clock when it answered (µs, u32), for the clock offset. */
  clockUs: number;
}

export interface StatusMessage extends FrameHeader {
  type: 'status';
  led: LedState;
}

export interface ReplyMessage extends FrameHeader {
  type: 'reply';
  /** Which reply this chunk belongs to (u16, wrapping). */
  replyId: number;
  /** First chunk of a reply: clear the display first. */
  first: boolean;
  /** Last chunk: the reply is complete. */
  last: boolean;
  /** At most 237 UTF-8 bytes per chunk. */
  text: string;
}

export interface AckMessage extends FrameHeader {
  type: 'ack';
  /** seq of the frame acknowledged. */
  ackSeq: number;
}

export interface NackMessage extends FrameHeader {
  type: 'nack';
  ackSeq: number;
  reason: NackReason;
}

export type Message =
  | HelloMessage
  | KeyMessage
  | GpioMessage
  | TextMessage
  | PingMessage
  | PongMessage
  | StatusMessage
  | ReplyMessage
  | AckMessage
  | NackMessage;

/** A message before the sender has given it a frame header. */
export type MessageBody<M extends Message = Message> = M extends Message
  ? Omit<M, keyof FrameHeader>
  : never;

/** REPLY text bytes per chunk: the payload minus reply id and chunk flags. */
export const MAX_REPLY_TEXT = 237;
