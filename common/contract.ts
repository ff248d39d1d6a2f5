// THE contract between the UI and the host (DESIGN.md): every request,
// response and event, as zod schemas with their inferred types, and the
// helpers that validate them at both ends. The pieces live in contract/, one
// concept per file; this file is the one import everyone uses:
//   import { requests, events, type HostApi, type AppState } from '../common/contract';
//
// Field names are snake_case, as in the command line's JSON. Request and
// event names are "area.verb" strings; Electron IPC uses them as channel names
// with a "keymate:" prefix (ipcChannel), the WebSocket puts them in an
// envelope (contract/wire.ts).
export * from './contract/messages';
export * from './contract/session';
export * from './contract/device';
export * from './contract/settings';
export * from './contract/engine';
export * from './contract/records';
export * from './contract/conversation';
export * from './contract/character';
export * from './contract/telemetry';
export * from './contract/thermal';
export * from './contract/notice';
export * from './contract/models';
export * from './contract/remote';
export { ContractError, type MessageKind } from './contract/errors';
export * from './contract/wire';

/** The Electron IPC channel of a request or event name. */
export function ipcChannel(name: string): string {
  return `keymate:${name}`;
}
