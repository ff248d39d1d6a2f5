// Whether a model fits this machine in each weight format (the host's memory
// plan): first one line that sums it up (which formats fit, and the range of
// memory they need against what there is), then, folded, every format with
// its need and its verdict in words as well as colour. Shared by the
// recommended models and the Models view's memory plan.
import type { FormatFit } from '../../common/contract';
import { bytes } from '../app/format';
import { fitSummary } from '../store/fit';

const mb = (v: number): string => bytes(v * 1024 * 1024);

export function FitList({ fits, testId }: { fits: Record<string, FormatFit>; testId?: string }) {
  const formats = Object.entries(fits);
  if (formats.length === 0) return <p className="muted small">No memory plan for this model.</p>;
  const every = formats.every(([, f]) => f.fits);
  const none = formats.every(([, f]) => !f.fits);
  return (
    <div className="fit" data-testid={testId}>
      <div className={`fit-summary small ${none ? 'error-text' : every ? 'ok-text' : ''}`}>{fitSummary(fits)}</div>
      <details className="fit-details">
        <summary className="muted small">Each weight format</summary>
        <ul className="fit-list">
          {formats.map(([format, fit]) => (
            <li key={format} className={fit.fits ? 'fit-yes' : 'fit-no'}>
              <span className="fit-format mono">{format}</span>
              <span className="fit-verdict">{fit.fits ? 'fits' : 'too big'}</span>
              <span className="fit-need muted">
                {mb(fit.need_mb)} / {mb(fit.have_mb)} {fit.where === 'gpu' ? 'GPU' : 'RAM'}
              </span>
            </li>
          ))}
        </ul>
      </details>
    </div>
  );
}
