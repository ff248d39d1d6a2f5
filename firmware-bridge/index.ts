// The keyboard link, as the rest of Keymate uses it (DESIGN.md, "The keyboard link"):
//   - host/: KeyboardLink, the app's end (discovery, handshake, heartbeat, reconnect, events);
//   - sim/: SimulatedKeyboard, a keyboard on a pseudo-terminal, for tests and people without one;
//   - protocol/: the frame codec, shared by both;
//   - device/: the same protocol in C99 for keyboard firmware (built with its own Makefile).
// Node only; imports nothing from the rest of Keymate.

export { KeyboardLink, DEFAULT_TIMING, type KeyboardLinkOptions, type LinkStats, type LinkTiming, type ReplyStream } from './host/keyboard-link';
export type { GpioEvent, KeyEvent, KeyboardEvent, LinkEvents, TextEvent } from './host/events';
export { LINK_STATES, TRANSITIONS, canTransition, type DeviceInfo, type LinkState, type LinkStatus } from './host/link-state';
export { DEFAULT_USB_MATCH, discoverPort, listSysfs, usbId, type Discovery, type PortInfo, type UsbMatch } from './host/discovery';
export { SimulatedKeyboard, deviceClockUs, type SimulatorOptions } from './sim/simulator';
export { LED_STATES, AI_KEY, type LedState } from './protocol';
