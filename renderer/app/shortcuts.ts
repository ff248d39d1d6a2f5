// Window-wide keys: Alt+1..7 switch views, and the AI key's shortcut (the
// settings' accelerator, Ctrl+Shift+Space by default) works as a held key
// while the window has focus. In Electron the shell registers the same
// accelerator globally, so it also works when the window is in the
// background; a browser page cannot do that.
import { useEffect } from 'react';

import { VIEWS } from '../store/app-slice';
import type { UiStore } from '../store/store';
import { matchesDown, matchesUp, parseAccelerator } from './accelerator';

export const DEFAULT_ACCELERATOR = 'CommandOrControl+Shift+Space';

export function isMacPlatform(): boolean {
  return /Mac|iPhone|iPad/.test(navigator.platform);
}

export function useWindowShortcuts(store: UiStore): void {
  useEffect(() => {
    const isMac = isMacPlatform();
    let holding = false;
    // Before the settings arrive, the default; an empty setting means no shortcut.
    const accelerator = () => parseAccelerator(store.getState().settings?.shortcut ?? DEFAULT_ACCELERATOR, isMac);

    const onKeyDown = (e: KeyboardEvent) => {
      if (e.altKey && !e.ctrlKey && !e.metaKey && !e.shiftKey && /^Digit[1-9]$/.test(e.code)) {
        const view = VIEWS[Number(e.code.slice(5)) - 1];
        if (view !== undefined) {
          e.preventDefault();
          store.getState().setView(view);
        }
        return;
      }
      const acc = accelerator();
      if (acc !== null && matchesDown(acc, e)) {
        e.preventDefault();
        if (e.repeat || holding) return;
        holding = true;
        void store.getState().pressKey('shortcut');
      }
    };
    const release = () => {
      if (!holding) return;
      holding = false;
      void store.getState().releaseKey('shortcut');
    };
    const onKeyUp = (e: KeyboardEvent) => {
      const acc = accelerator();
      if (holding && acc !== null && matchesUp(acc, e)) {
        e.preventDefault();
        release();
      }
    };
    window.addEventListener('keydown', onKeyDown);
    window.addEventListener('keyup', onKeyUp);
    window.addEventListener('blur', release);
    return () => {
      window.removeEventListener('keydown', onKeyDown);
      window.removeEventListener('keyup', onKeyUp);
      window.removeEventListener('blur', release);
    };
  }, [store]);
}
