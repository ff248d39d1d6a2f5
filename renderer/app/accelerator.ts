// The AI key's shortcut inside the window. The setting is written in
// Electron's accelerator syntax ("CommandOrControl+Shift+Space"), because the
// Electron shell registers the same string as a global shortcut; this parses
// it for the browser, where the page sees key down AND key up and can treat
// the shortcut as a held key, like the real one.

export interface Accelerator {
  ctrl: boolean;
  meta: boolean;
  alt: boolean;
  shift: boolean;
  /** KeyboardEvent.code of the main key ("Space", "KeyK", "Digit1", "F5"). */
  code: string;
}

const NAMED_CODES: Record<string, string> = {
  space: 'Space',
  enter: 'Enter',
  return: 'Enter',
  tab: 'Tab',
  backspace: 'Backspace',
  delete: 'Delete',
  insert: 'Insert',
  home: 'Home',
  end: 'End',
  pageup: 'PageUp',
  pagedown: 'PageDown',
  up: 'ArrowUp',
  down: 'ArrowDown',
  left: 'ArrowLeft',
  right: 'ArrowRight',
  esc: 'Escape',
  escape: 'Escape',
};

/** Parses an accelerator; null when it is empty or names a key this page cannot match. */
export function parseAccelerator(text: string, isMac: boolean): Accelerator | null {
  const parts = text
    .split('+')
    .map((p) => p.trim())
    .filter((p) => p !== '');
  if (parts.length === 0) return null;
  const acc: Accelerator = { ctrl: false, meta: false, alt: false, shift: false, code: '' };
  for (const [i, raw] of parts.entries()) {
    const p = raw.toLowerCase();
    const last = i === parts.length - 1;
    if (p === 'commandorcontrol' || p === 'cmdorctrl') {
      if (isMac) acc.meta = true;
      else acc.ctrl = true;
    } else if (p === 'control' || p === 'ctrl') acc.ctrl = true;
    else if (p === 'command' || p === 'cmd' || p === 'super' || p === 'meta') acc.meta = true;
    else if (p === 'alt' || p === 'option' || p === 'altgr') acc.alt = true;
    else if (p === 'shift') acc.shift = true;
    else if (!last) return null;
    else if (/^[a-z]$/.test(p)) acc.code = `Key${p.toUpperCase()}`;
    else if (/^[0-9]$/.test(p)) acc.code = `Digit${p}`;
    else if (/^f([1-9]|1[0-9]|2[0-4])$/.test(p)) acc.code = p.toUpperCase();
    else {
      const named = NAMED_CODES[p];
      if (named === undefined) return null;
      acc.code = named;
    }
  }
  return acc.code === '' ? null : acc;
}

export interface KeyLike {
  code: string;
  ctrlKey: boolean;
  metaKey: boolean;
  altKey: boolean;
  shiftKey: boolean;
}

export function matchesDown(acc: Accelerator, e: KeyLike): boolean {
  return e.code === acc.code && e.ctrlKey === acc.ctrl && e.metaKey === acc.meta && e.altKey === acc.alt && e.shiftKey === acc.shift;
}

/** The shortcut counts as released when its main key goes up, whatever the modifiers do. */
export function matchesUp(acc: Accelerator, e: Pick<KeyLike, 'code'>): boolean {
  return e.code === acc.code;
}

/** The accelerator as a person reads it on this platform ("Ctrl+Shift+Space"). */
export function describeAccelerator(acc: Accelerator, isMac: boolean): string {
  const names: string[] = [];
  if (acc.ctrl) names.push(isMac ? '⌃' : 'Ctrl');
  if (acc.alt) names.push(isMac ? '⌥' : 'Alt');
  if (acc.shift) names.push(isMac ? '⇧' : 'Shift');
  if (acc.meta) names.push(isMac ? '⌘' : 'Super');
  names.push(acc.code.replace(/^Key|^Digit|^Arrow/, ''));
  return names.join(isMac ? '' : '+');
}
