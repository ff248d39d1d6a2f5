// A latency histogram drawn with plain elements: few bins, so DOM bars are
// cheaper than a chart library, print crisply at any zoom, and each bar can
// carry its own accessible label. Bin edges come from store/histogram.ts.
import { ms } from '../app/format';
import { histogram } from '../store/histogram';

/** A bin edge with no more decimals than the bin width needs (width 0.5 -> "6.5", width 2 -> "6"). */
function axisLabel(v: number, width: number): string {
  const decimals = Math.max(0, -Math.floor(Math.log10(width) + 1e-9));
  return v.toFixed(decimals);
}

export function HistogramBars({ values, unit, label }: { values: readonly number[]; unit: string; label: string }) {
  // Few presses get few, wide bins; many get up to twelve.
  const h = histogram(values, Math.min(12, Math.max(4, Math.ceil(2 * Math.sqrt(values.length)))));
  if (h === null) return <p className="muted">No presses yet.</p>;
  const max = Math.max(...h.counts);
  // At most about eight labels under the bars, at bin edges.
  const every = Math.ceil(h.counts.length / 8);
  return (
    <figure className="histogram" aria-label={label}>
      <div className="histogram-bars">
        {h.counts.map((c, i) => {
          const lo = h.start + i * h.width;
          const hi = lo + h.width;
          return (
            <div key={i} className="histogram-col" title={`${ms(lo)}–${ms(hi)} ${unit}: ${c}`}>
              <div className="histogram-count">{c > 0 ? c : ''}</div>
              <div className="histogram-bar" style={{ height: `${(c / max) * 100}%` }} aria-label={`${ms(lo)} to ${ms(hi)} ${unit}: ${c}`} role="img" />
            </div>
          );
        })}
      </div>
      <div className="histogram-axis" aria-hidden="true">
        {h.counts.map((_, i) => (
          <span key={i} className="histogram-tick">
            {i % every === 0 ? axisLabel(h.start + i * h.width, h.width) : ''}
          </span>
        ))}
      </div>
      <figcaption className="muted small">
        {values.length} press{values.length === 1 ? '' : 'es'}; bins of {axisLabel(h.width, h.width)} {unit}, labelled by their lower edge
      </figcaption>
    </figure>
  );
}
