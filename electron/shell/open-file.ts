// The import button's file dialog in the desktop app. The contract's
// 'models.pick_file' is answered here (ipc.ts puts this in place of the host
// core's answer, which has no dialog to show: over the WebSocket the user
// types the path). The dialog only picks; models.import does the rest.
import { type BrowserWindow, dialog } from 'electron';

import type { ResponseOf } from '../../common/contract';

const OPTIONS: Electron.OpenDialogOptions = {
  title: 'Import a GGUF model',
  buttonLabel: 'Import',
  properties: ['openFile'],
  filters: [
    { name: 'GGUF models', extensions: ['gguf'] },
    { name: 'All files', extensions: ['*'] },
  ],
};

/** The chosen file, or null when the user cancelled; modal to `parent` when there is one. */
export async function pickGgufFile(parent: BrowserWindow | null): Promise<ResponseOf<'models.pick_file'>> {
  const r = parent !== null ? await dialog.showOpenDialog(parent, OPTIONS) : await dialog.showOpenDialog(OPTIONS);
  return { path: r.canceled ? null : (r.filePaths[0] ?? null) };
}
