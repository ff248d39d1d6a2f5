// A headline number: label above, value (with its own test id, so tests and
// scripts read the number alone) and unit beside it. "No value yet" (—) and
// "being measured" (…) are drawn by CSS from data-placeholder, so the element
// with the test id holds a number or nothing, never a dash to misparse.
import type { ReactNode } from 'react';

import { NONE } from '../app/format';

export const PENDING = '…';

export function Stat({ label, value, unit, testId, hint }: { label: string; value: string; unit?: string; testId?: string; hint?: ReactNode }) {
  const placeholder = value === NONE || value === PENDING;
  return (
    <div className="stat">
      <div className="stat-label">{label}</div>
      <div className="stat-value">
        <span data-testid={testId} data-placeholder={placeholder ? value : undefined} aria-label={placeholder ? (value === NONE ? 'none yet' : 'measuring') : undefined}>
          {placeholder ? '' : value}
        </span>
        {unit !== undefined && <span className="stat-unit"> {unit}</span>}
      </div>
      {hint !== undefined && <div className="stat-hint">{hint}</div>}
    </div>
  );
}
