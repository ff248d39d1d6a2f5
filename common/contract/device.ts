// The keyboard link as the UI sees it. The state names are the host link's
// state machine's (firmware-bridge/host/link-state.ts); common/ may not import
// firmware-bridge/, so they are repeated here and a test holds the two lists
// together.
import { z } from 'zod';

export const LINK_STATES = ['stopped', 'searching', 'opening', 'handshaking', 'connected', 'disconnected'] as const;
export const LinkState = z.enum(LINK_STATES);
export type LinkState = z.infer<typeof LinkState>;

export const DeviceIdentity = z.strictObject({
  device_id: z.string(),
  firmware: z.string(),
  protocol: z.number().int().nonnegative(),
  capabilities: z.strictObject({
    key: z.boolean(),
    gpio: z.boolean(),
    text: z.boolean(),
    led: z.boolean(),
    display: z.boolean(),
  }),
});
export type DeviceIdentity = z.infer<typeof DeviceIdentity>;

export const DeviceStatus = z.strictObject({
  state: LinkState,
  /** state === 'connected', for a UI that only needs yes or no. */
  connected: z.boolean(),
  /** The serial port in use or last tried; null before the first try. */
  port: z.string().nullable(),
  /** Why the link is in this state, in words. */
  reason: z.string().nullable(),
  /** The keyboard's HELLO (connected only). */
  device: DeviceIdentity.nullable(),
  /** Failed attempts since the last connection. */
  attempt: z.number().int().nonnegative(),
  /** disconnected: milliseconds until the next attempt. */
  retry_in_ms: z.number().nonnegative().nullable(),
  /** Valid frames received since the host started. */
  frames: z.number().int().nonnegative(),
  /** Malformed frames dropped: all together, and by kind (cobs, crc, ...). */
  frame_errors: z.strictObject({
    total: z.number().int().nonnegative(),
    by_kind: z.record(z.string(), z.number().int().nonnegative()),
  }),
  /** Frames the host sent again for want of an ACK. */
  retransmits: z.number().int().nonnegative(),
  /**
   * The best recent PING round trip to the keyboard, ms: the error bound of a
   * key's latency is half of it. Null until the session's first PONG: until
   * then a key press's link latency is unknown.
   */
  clock_rtt_ms: z.number().nonnegative().nullable(),
});
export type DeviceStatus = z.infer<typeof DeviceStatus>;
