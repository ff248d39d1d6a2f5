// The per-stage breakdown of one decoded token as horizontal bars, in the
// order a forward pass runs them (the contract's STAGES), with stages the
// engine reports beyond that list at the end. Widths are shares of the sum,
// and every bar says its time and share in words too.
import { STAGES } from '../../common/contract/session';
import { ms } from '../app/format';

export function orderedStages(stages: Readonly<Record<string, number>>): [string, number][] {
  const known = STAGES.filter((s) => stages[s] !== undefined).map((s): [string, number] => [s, stages[s] as number]);
  const extra = Object.entries(stages).filter(([s]) => !(STAGES as readonly string[]).includes(s));
  return [...known, ...extra];
}

export function StageBars({ stages }: { stages: Readonly<Record<string, number>> }) {
  const rows = orderedStages(stages);
  const total = rows.reduce((a, [, v]) => a + v, 0);
  if (rows.length === 0 || total <= 0) return <p className="muted">No stage times in this measurement.</p>;
  return (
    <div className="stages" role="list">
      {rows.map(([name, v]) => {
        const share = v / total;
        return (
          <div className="stage-row" role="listitem" key={name}>
            <span className="stage-name">{name}</span>
            <span className="stage-track">
              <span className={`stage-bar stage-${name}`} style={{ width: `${Math.max(share * 100, 0.5)}%` }} />
            </span>
            <span className="stage-value">
              {ms(v)} ms <span className="muted">({(share * 100).toFixed(0)}%)</span>
            </span>
          </div>
        );
      })}
      <div className="stage-row total">
        <span className="stage-name">total</span>
        <span className="stage-track" />
        <span className="stage-value">{ms(total)} ms</span>
      </div>
    </div>
  );
}
