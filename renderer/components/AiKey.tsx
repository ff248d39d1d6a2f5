// The on-screen AI key, for people without the keyboard: hold it (pointer,
// or Space/Enter while it has focus) to listen, let go to send; pressing it
// while a reply streams stops the reply (the host's policy). It is a real
// button, so it is in the tab order and announced with its pressed state.
// Losing focus or the pointer while held counts as a release, so the key can
// never stay stuck down.
import { useMemo, useRef, type KeyboardEvent, type PointerEvent } from 'react';

import { describeAccelerator, parseAccelerator } from '../app/accelerator';
import { useUi } from '../app/context';
import { DEFAULT_ACCELERATOR, isMacPlatform } from '../app/shortcuts';
import { aiKeyState } from '../store/session-slice';

const HINT: Record<string, string> = {
  idle: 'Hold to ask, release to send',
  listening: 'Listening — release to send',
  thinking: 'Thinking…',
  replying: 'Replying — press to stop',
  error: 'Hold to ask again',
};

/** The shortcut as a person reads it; null when the setting is empty or not usable in a page. */
function shortcutLabel(setting: string | undefined): string | null {
  const acc = parseAccelerator(setting ?? DEFAULT_ACCELERATOR, isMacPlatform());
  return acc === null ? null : describeAccelerator(acc, isMacPlatform());
}

const isKeyKey = (e: KeyboardEvent) => e.key === ' ' || e.key === 'Enter';
// Space with modifiers is the window shortcut's (Ctrl+Shift+Space), not this key's.
const hasModifier = (e: KeyboardEvent) => e.ctrlKey || e.altKey || e.metaKey || e.shiftKey;

export function AiKey() {
  const state = useUi(aiKeyState);
  const session = useUi((s) => s.session.state);
  const press = useUi((s) => s.pressKey);
  const release = useUi((s) => s.releaseKey);
  const held = useUi((s) => s.screenKeyHeld);
  // The setting is selected and the label made from it once: a selector runs at every change of
  // the store (every token), and parsing the accelerator there was half of what applying a
  // reply's start cost the page (a CPU profile of 40 presses).
  const shortcutSetting = useUi((s) => s.settings?.shortcut);
  const shortcut = useMemo(() => shortcutLabel(shortcutSetting), [shortcutSetting]);
  const byKeyboard = useRef(false);

  const onPointerDown = (e: PointerEvent<HTMLButtonElement>) => {
    if (e.button !== 0) return;
    e.currentTarget.setPointerCapture(e.pointerId);
    void press('screen');
  };
  const onPointerUp = () => void release('screen');
  const onKeyDown = (e: KeyboardEvent<HTMLButtonElement>) => {
    if (!isKeyKey(e) || hasModifier(e)) return;
    e.preventDefault();
    if (e.repeat) return;
    byKeyboard.current = true;
    void press('screen');
  };
  const onKeyUp = (e: KeyboardEvent<HTMLButtonElement>) => {
    // Whatever modifiers are down by now: the key this hand pressed goes up.
    if (!isKeyKey(e) || !byKeyboard.current) return;
    e.preventDefault();
    byKeyboard.current = false;
    void release('screen');
  };

  return (
    <div className="aikey-wrap">
      <button
        type="button"
        className={`aikey state-${state} session-${session}`}
        data-testid="ai-key"
        data-state={state}
        data-session={session}
        aria-pressed={state === 'down'}
        aria-describedby="aikey-hint"
        onPointerDown={onPointerDown}
        onPointerUp={onPointerUp}
        onPointerCancel={onPointerUp}
        onLostPointerCapture={onPointerUp}
        onKeyDown={onKeyDown}
        onKeyUp={onKeyUp}
        onBlur={() => {
          byKeyboard.current = false;
          if (held) void release('screen');
        }}
        onContextMenu={(e) => e.preventDefault()}
      >
        <span className="aikey-cap">AI</span>
      </button>
      <div id="aikey-hint" className="aikey-hint">
        <div>{HINT[session] ?? ''}</div>
        <div className="muted small">
          Space or Enter on the key{shortcut !== null && <> · {shortcut} in the window</>}
        </div>
      </div>
    </div>
  );
}
