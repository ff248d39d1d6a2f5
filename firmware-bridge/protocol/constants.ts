// The numbers of the Keymate keyboard protocol, version 1 (see firmware-bridge/PROTOCOL.md).
// They are written once here; the C side repeats them in device/km_protocol.h and the shared
// test vectors (vectors/frames.json) are what keeps the two in step.

/** The version byte every v1 frame starts with. */
export const PROTOCOL_VERSION = 1;

/** Body = version, type, seq (u16 LE), flags, payload, CRC (u16 LE). */
export const HEADER_SIZE = 5;
export const CRC_SIZE = 2;
export const MAX_PAYLOAD = 240;
export const MIN_BODY = HEADER_SIZE + CRC_SIZE;
export const MAX_BODY = HEADER_SIZE + MAX_PAYLOAD + CRC_SIZE;
/** COBS adds one byte per 254 data bytes; a body of at most 247 bytes gains exactly one. */
export const MAX_ENCODED = MAX_BODY + 1;
/** The byte that ends every frame; COBS guarantees it never appears inside one. */
export const DELIMITER = 0x00;

export const MessageType = {
  hello: 0x01,
  key: 0x02,
  gpio: 0x03,
  text: 0x04,
  ping: 0x05,
  pong: 0x06,
  status: 0x07,
  reply: 0x08,
  ack: 0x09,
  nack: 0x0a,
} as const;
export type MessageTypeName = keyof typeof MessageType;

export const FrameFlag = {
  /** The sender wants an ACK (or NACK) for this frame and will retransmit without one. */
  ackRequested: 0x01,
  /** This frame repeats an earlier one with the same seq; receivers drop it if already seen. */
  retransmit: 0x02,
} as const;
/** Bits a v1 receiver does not know; a frame that sets one is malformed. */
export const RESERVED_FLAGS = 0xfc;

/** STATUS: what the keyboard's LED shows, in the order of their wire codes. */
export const LED_STATES = ['idle', 'listening', 'thinking', 'replying', 'error'] as const;
export type LedState = (typeof LED_STATES)[number];

/** HELLO capability bits: what the sender can send or act on. */
export const Capability = {
  key: 0x01,
  gpio: 0x02,
  text: 0x04,
  led: 0x08,
  display: 0x10,
} as const;
export const ALL_CAPABILITIES = 0x1f;

/** NACK reasons, in the order of their wire codes (starting at 1). */
export const NACK_REASONS = ['busy', 'unsupported-type', 'bad-payload', 'not-ready'] as const;
export type NackReason = (typeof NACK_REASONS)[number];

/** REPLY chunk flags. */
export const ReplyFlag = { first: 0x01, last: 0x02 } as const;

/** The key code of the AI key; codes from 0x0100 up are the maker's own keys. */
export const AI_KEY = 0x0001;

/** HELLO device id: 1 to 32 printable ASCII characters (a serial number or a model name). */
export const MAX_DEVICE_ID = 32;

/** Why a frame was dropped; the C side uses the same names (km_error_name). */
export const FRAME_ERRORS = [
  'cobs',
  'length',
  'overflow',
  'crc',
  'version',
  'flags',
  'type',
  'payload',
  'utf8',
] as const;
export type FrameError = (typeof FRAME_ERRORS)[number];
