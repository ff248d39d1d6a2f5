// The view switcher: one button per view, in a <nav>, each with its test id
// (nav-<view>) and a shortcut (Alt+1..7). Up/Down arrows move between the
// buttons as in any vertical menu; Tab still leaves the nav as usual.
import { useRef, type KeyboardEvent } from 'react';

import { ViewIcon } from '../components/Icon';
import { VIEWS, type ViewId } from '../store/app-slice';
import { useUi } from './context';

export const VIEW_LABELS: Record<ViewId, string> = {
  companion: 'Companion',
  performance: 'Performance',
  telemetry: 'Telemetry',
  settings: 'Settings',
  device: 'Device',
  models: 'Models',
  chats: 'Chats',
};


export function Nav() {
  const view = useUi((s) => s.view);
  const setView = useUi((s) => s.setView);
  const buttons = useRef<(HTMLButtonElement | null)[]>([]);

  const onKeyDown = (e: KeyboardEvent<HTMLButtonElement>, i: number) => {
    const step = e.key === 'ArrowDown' ? 1 : e.key === 'ArrowUp' ? -1 : 0;
    if (step === 0) return;
    e.preventDefault();
    buttons.current[(i + step + VIEWS.length) % VIEWS.length]?.focus();
  };

  return (
    <nav className="nav" aria-label="Views">
      <div className="brand" aria-hidden="true">
        <span className="brand-mark">AI</span> Keymate
      </div>
      <ul>
        {VIEWS.map((v, i) => (
          <li key={v}>
            <button
              ref={(el) => {
                buttons.current[i] = el;
              }}
              type="button"
              data-testid={`nav-${v}`}
              className={v === view ? 'nav-item active' : 'nav-item'}
              aria-current={v === view ? 'page' : undefined}
              aria-keyshortcuts={`Alt+${i + 1}`}
              onClick={() => setView(v)}
              onKeyDown={(e) => onKeyDown(e, i)}
            >
              <span className="nav-icon">
                <ViewIcon view={v} />
              </span>
              {VIEW_LABELS[v]}
              <kbd className="nav-key" aria-hidden="true">
                Alt {i + 1}
              </kbd>
            </button>
          </li>
        ))}
      </ul>
    </nav>
  );
}
