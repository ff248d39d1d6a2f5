// The Electron main process: a thin shell over the host core (DESIGN.md).
// It starts the Host (transport 'ipc'), serves the built UI at app://keymate/,
// opens the one sandboxed window, wires IPC from the contract's map, and adds
// what only a desktop app has: the tray and the global shortcut. Everything
// the app does is in the Host; nothing here is needed by `keymate serve`.
import * as os from 'node:os';
import * as path from 'node:path';

import { app, type BrowserWindow } from 'electron';

import { resolveDataHome } from '../../common/data-home';
import { packageRoot } from '../host/engine/package-root';
import { Host } from '../host/host';
import { registerAppScheme, serveRenderer } from './app-protocol';
import { wireIpc } from './ipc';
import { AiKeyShortcut } from './shortcut';
import { createTray } from './tray';
import { createOverlayWindow, createWindow, denyPermissions, preloadPath, setClickThrough } from './window';

// A packaged app keeps the addon outside the asar (electron-builder.yml, asarUnpack).
if (app.isPackaged && process.env['KEYMATE_ADDON'] === undefined) {
  process.env['KEYMATE_ADDON'] = path.join(process.resourcesPath, 'app.asar.unpacked', 'build', 'addon', 'Release', 'keymate.node');
}

registerAppScheme();
app.enableSandbox();

let window: BrowserWindow | null = null;
let quitting = false;
/** The gamers' overlay: shown from the tray, and again by the AI key's shortcut while it is on. */
const overlay: { window: BrowserWindow | null; on: boolean; clickThrough: boolean } = { window: null, on: false, clickThrough: true };

function showOverlay(on: boolean): void {
  overlay.on = on;
  if (!on) {
    overlay.window?.hide();
    return;
  }
  if (overlay.window === null || overlay.window.isDestroyed()) overlay.window = createOverlayWindow(preloadPath(__dirname), overlay.clickThrough);
  else overlay.window.showInactive();
}

function showWindow(): void {
  if (window === null || window.isDestroyed()) {
    const created = createWindow(preloadPath(__dirname));
    created.on('close', (e) => {
      // Closing the window keeps Keymate in the tray, listening to the keyboard.
      if (!quitting) {
        e.preventDefault();
        created.hide();
      }
    });
    window = created;
  }
  window.show();
  window.focus();
}

async function start(): Promise<void> {
  if (!app.requestSingleInstanceLock()) {
    app.quit();
    return;
  }
  await app.whenReady();
  denyPermissions();
  serveRenderer(path.join(packageRoot(), 'dist', 'renderer'));

  const home = resolveDataHome({ env: process.env, platform: process.platform, homedir: os.homedir() });
  // The app answers OpenAI clients itself, on the port Settings name, while they say so.
  const host = await Host.start({ home, transport: 'ipc', apiListener: true });
  const unwire = wireIpc(host, () => [window, overlay.window].filter((w) => w !== null && !w.isDestroyed()).map((w) => w!.webContents));
  const shortcut = new AiKeyShortcut(
    () => {
      if (overlay.on) showOverlay(true);
      host.tap('shortcut');
    },
    (message) => host.notices.add('warning', 'info', message),
  );
  shortcut.use(host.currentSettings().shortcut);
  host.subscribe((name, payload) => {
    if (name === 'settings') shortcut.use((payload as { shortcut: string }).shortcut);
  });
  const tray = createTray({
    show: showWindow,
    aiKey: () => host.tap('screen'),
    overlay: showOverlay,
    clickThrough: (on) => {
      overlay.clickThrough = on;
      if (overlay.window !== null && !overlay.window.isDestroyed()) setClickThrough(overlay.window, on);
    },
    quit: () => app.quit(),
  });

  app.on('second-instance', showWindow);
  app.on('activate', showWindow);
  app.on('window-all-closed', () => {
    // Stays in the tray (see showWindow); quitting is explicit.
  });
  app.on('before-quit', (event) => {
    if (quitting) return;
    quitting = true;
    event.preventDefault();
    shortcut.dispose();
    unwire();
    tray.destroy();
    overlay.window?.destroy();
    void host.stop().finally(() => app.exit(0));
  });
  showWindow();
}

start().catch((e: unknown) => {
  process.stderr.write(`keymate: ${e instanceof Error ? e.message : String(e)}\n`);
  app.exit(1);
});
