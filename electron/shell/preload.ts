// The preload: exposes exactly the contract's HostApi as window.keymate, and
// nothing else (no ipcRenderer, no Node). Channels come from the contract's
// maps, so a stray channel cannot exist; requests are checked before they go
// and answers and events when they arrive (the UI's end of the contract).
// Runs sandboxed: it is bundled with the contract into one file
// (preload.vite.config.mjs), since a sandboxed preload may only require
// 'electron'.
import { contextBridge, ipcRenderer } from 'electron';

import {
  ContractError,
  type EventName,
  type EventOf,
  type HostApi,
  type RequestName,
  type RequestOf,
  type ResponseOf,
  ipcChannel,
  isEventName,
  parseEvent,
  parseRequest,
  parseResponse,
} from '../../common/contract';
import type { IpcAnswer } from './ipc-answer';

const api: HostApi = {
  async request<N extends RequestName>(name: N, payload: RequestOf<N>): Promise<ResponseOf<N>> {
    const checked = parseRequest(name, payload);
    const answer = (await ipcRenderer.invoke(ipcChannel(checked.name), checked.payload)) as IpcAnswer;
    if (!answer.ok) throw new Error(answer.error);
    return parseResponse(checked.name, answer.result).payload as ResponseOf<N>;
  },
  on<E extends EventName>(event: E, listener: (payload: EventOf<E>) => void): () => void {
    if (!isEventName(event)) throw new ContractError(`contract: unknown event '${String(event)}'`);
    const channel = ipcChannel(event);
    const forward = (_e: Electron.IpcRendererEvent, payload: unknown): void => {
      let checked: EventOf<E>;
      try {
        checked = parseEvent(event, payload).payload as EventOf<E>;
      } catch (e) {
        console.error(e instanceof Error ? e.message : String(e));
        return;
      }
      listener(checked);
    };
    ipcRenderer.on(channel, forward);
    return () => {
      ipcRenderer.removeListener(channel, forward);
    };
  },
};

contextBridge.exposeInMainWorld('keymate', api);
