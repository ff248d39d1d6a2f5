// The host link's states, written as a table so that the UI can show them and tests can check
// that nothing moves along an edge that is not in it.
//
//   stopped ──start──► searching ──port found──► opening ──open──► handshaking ──HELLO──► connected
//                          │                        │                  │    ▲                 │
//                          └──────── failure ───────┴──────────────────┘    └─device HELLO────┤
//                                      ▼                                     (re-handshake)    │
//                                disconnected ◄──── unplug, write error, heartbeat timeout ────┘
//                                      │
//                                      └── after the backoff delay ──► searching
//
// Every state can go to stopped (stop()). 'disconnected' is the waiting room between attempts:
// its status carries the reason and the delay until the next try.

export const LINK_STATES = ['stopped', 'searching', 'opening', 'handshaking', 'connected', 'disconnected'] as const;
export type LinkState = (typeof LINK_STATES)[number];

export const TRANSITIONS: Readonly<Record<LinkState, readonly LinkState[]>> = {
  stopped: ['searching'],
  searching: ['opening', 'disconnected', 'stopped'],
  opening: ['handshaking', 'disconnected', 'stopped'],
  handshaking: ['connected', 'disconnected', 'stopped'],
  connected: ['handshaking', 'disconnected', 'stopped'],
  disconnected: ['searching', 'stopped'],
};

export function canTransition(from: LinkState, to: LinkState): boolean {
  return TRANSITIONS[from].includes(to);
}

/** What the keyboard said about itself in its HELLO. */
export interface DeviceInfo {
  deviceId: string;
  firmware: string;
  protocol: number;
  capabilities: {
    key: boolean;
    gpio: boolean;
    text: boolean;
    led: boolean;
    display: boolean;
  };
}

/** A snapshot for the UI: the state and what goes with it. */
export interface LinkStatus {
  state: LinkState;
  /** Why the link is in this state, in words ("the keyboard was unplugged"). */
  reason?: string;
  /** The serial port in use or last tried. */
  port?: string;
  /** The connected keyboard (connected only). */
  device?: DeviceInfo;
  /** Failed attempts since the link was last connected. */
  attempt: number;
  /** disconnected only: milliseconds until the next attempt. */
  retryInMs?: number;
}

