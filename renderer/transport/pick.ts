// Which transport this window uses: Electron's preload exposes the contract's
// HostApi as window.keymate (IPC); without it the page came from `keymate
// serve` and talks WebSocket. Both are the same HostApi, so nothing past this
// file knows the difference.
import type { HostApi } from '../../common/contract';
import { WsHost, type WsState } from './ws';

declare global {
  interface Window {
    /** Set by the Electron preload (contextBridge); absent in a plain browser. */
    keymate?: HostApi;
  }
}

export interface PickedHost {
  host: HostApi;
  transport: 'ipc' | 'websocket';
}

export function pickHost(onState: (state: WsState, message: string | null) => void, onProblem: (e: Error) => void): PickedHost {
  const ipc = window.keymate;
  if (ipc !== undefined) {
    // IPC has no connection to lose: the window lives and dies with the host.
    onState('open', null);
    return { host: ipc, transport: 'ipc' };
  }
  return { host: new WsHost({ pageUrl: window.location.href, onState, onProblem }), transport: 'websocket' };
}
