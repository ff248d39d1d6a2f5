// The one window: sandboxed, isolated, no Node, showing app://keymate/. It
// may not navigate anywhere else, open other windows, or get any permission
// (camera, notifications, ...): the UI needs none of them.
import * as path from 'node:path';

import { BrowserWindow, session, shell } from 'electron';

import { APP_ORIGIN } from './csp';

export function createWindow(preload: string): BrowserWindow {
  const window = new BrowserWindow({
    width: 1280,
    height: 820,
    minWidth: 900,
    minHeight: 600,
    show: false,
    backgroundColor: '#111318',
    title: 'Keymate',
    autoHideMenuBar: true,
    webPreferences: {
      preload,
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      nodeIntegrationInWorker: false,
      webSecurity: true,
      allowRunningInsecureContent: false,
      webviewTag: false,
      spellcheck: false,
    },
  });
  const contents = window.webContents;
  contents.setWindowOpenHandler(({ url }) => {
    // Links to the web open in the user's browser, never in the app.
    if (url.startsWith('https://')) void shell.openExternal(url);
    return { action: 'deny' };
  });
  contents.on('will-navigate', (event, url) => {
    if (!url.startsWith(APP_ORIGIN + '/')) event.preventDefault();
  });
  contents.on('will-attach-webview', (event) => event.preventDefault());
  window.once('ready-to-show', () => window.show());
  void window.loadURL(`${APP_ORIGIN}/index.html`);
  return window;
}

/**
 * The overlay for gamers: a small frameless window above every other (a game
 * in windowed or borderless mode included) showing the current turn, the
 * same page in its overlay layout (renderer/views/OverlayView.tsx). It never
 * takes the focus from the game; click-through lets the mouse pass to what
 * is under it.
 */
export function createOverlayWindow(preload: string, clickThrough: boolean): BrowserWindow {
  const overlay = new BrowserWindow({
    width: 440,
    height: 240,
    show: false,
    frame: false,
    transparent: true,
    resizable: true,
    skipTaskbar: true,
    focusable: false,
    alwaysOnTop: true,
    title: 'Keymate overlay',
    webPreferences: { preload, contextIsolation: true, sandbox: true, nodeIntegration: false, webSecurity: true, webviewTag: false, spellcheck: false },
  });
  // Above full-screen windows too, where the platform allows it.
  overlay.setAlwaysOnTop(true, 'screen-saver');
  overlay.setVisibleOnAllWorkspaces(true, { visibleOnFullScreen: true });
  setClickThrough(overlay, clickThrough);
  const contents = overlay.webContents;
  contents.setWindowOpenHandler(() => ({ action: 'deny' }));
  contents.on('will-navigate', (event, url) => {
    if (!url.startsWith(APP_ORIGIN + '/')) event.preventDefault();
  });
  contents.on('will-attach-webview', (event) => event.preventDefault());
  overlay.once('ready-to-show', () => overlay.showInactive());
  void overlay.loadURL(`${APP_ORIGIN}/index.html#overlay`);
  return overlay;
}

export function setClickThrough(overlay: BrowserWindow, on: boolean): void {
  overlay.setIgnoreMouseEvents(on, { forward: true });
}

/** No permission is ever granted to web content. */
export function denyPermissions(): void {
  session.defaultSession.setPermissionRequestHandler((_contents, _permission, callback) => callback(false));
  session.defaultSession.setPermissionCheckHandler(() => false);
}

export function preloadPath(shellDir: string): string {
  return path.join(shellDir, 'preload.cjs');
}
