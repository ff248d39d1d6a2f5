// The host's requests over Electron IPC: one handler per request of the
// contract, registered from the contract's map (so there is no channel the
// contract does not name), each refusing any sender that is not one of the
// app's own windows (the main one, the overlay) showing the app's own page.
// Events go to every such window on the contract's channels. Requests are validated by dispatch() (the host's end).
// The one request only a desktop app can answer, the file dialog, is the
// shell's own (open-file.ts).
import { BrowserWindow, type WebContents, ipcMain } from 'electron';

import { REQUEST_NAMES, type RequestHandlers, ipcChannel } from '../../common/contract';
import type { Host } from '../host/host';
import { dispatch } from '../host/transport/dispatch';
import type { IpcAnswer } from './ipc-answer';
import { pickGgufFile } from './open-file';
import { isTrustedSender } from './sender';

/** Wires `host` to the windows whose contents `targets()` returns (the main window first); returns the function that unwires it. */
export function wireIpc(host: Host, targets: () => WebContents[]): () => void {
  const live = (): WebContents[] => targets().filter((c) => !c.isDestroyed());
  const handlers: RequestHandlers = {
    ...host.handlers,
    'models.pick_file': () => {
      const main = live()[0];
      return pickGgufFile(main !== undefined ? BrowserWindow.fromWebContents(main) : null);
    },
  };
  for (const name of REQUEST_NAMES) {
    ipcMain.handle(ipcChannel(name), async (event, payload: unknown): Promise<IpcAnswer> => {
      if (!isTrustedSender(event.sender.id, event.senderFrame, live().map((c) => c.id))) {
        return { ok: false, error: `ipc: request '${name}' refused: it did not come from a Keymate window` };
      }
      const r = await dispatch(handlers, name, payload, undefined);
      return r.ok ? { ok: true, result: r.result } : { ok: false, error: r.error };
    });
  }
  const unsubscribe = host.subscribe((name, payload) => {
    for (const contents of live()) contents.send(ipcChannel(name), payload);
  });
  return () => {
    unsubscribe();
    for (const name of REQUEST_NAMES) ipcMain.removeHandler(ipcChannel(name));
  };
}
