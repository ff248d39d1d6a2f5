// A labelled form field with its hint or error line under it, wired for
// screen readers (the control gets the id and aria-describedby from children).
import { useId, type ReactNode } from 'react';

export function Field({ label, hint, error, children }: { label: string; hint?: string; error?: string; children: (id: string, describedBy: string) => ReactNode }) {
  const id = useId();
  return (
    <div className={`field ${error !== undefined ? 'invalid' : ''}`}>
      <label htmlFor={id}>{label}</label>
      {children(id, `${id}-hint`)}
      <div id={`${id}-hint`} className={error !== undefined ? 'error-text small' : 'muted small'}>
        {error ?? hint ?? ''}
      </div>
    </div>
  );
}
