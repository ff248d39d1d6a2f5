// One line: where the last press's wait went (store/press-split.ts), with the
// exact numbers as data attributes for scripts (scripts/bench-press.ts).
import { useUi } from '../app/context';
import { ms } from '../app/format';
import { pressSplit } from '../store/press-split';

const attr = (v: number | null): string => (v === null ? '' : v.toFixed(3));

export function PressSplitLine() {
  const reply = useUi((s) => s.reply);
  const clock = useUi((s) => s.hostClock);
  const split = reply?.done === true ? pressSplit(reply, clock) : null;
  if (split === null) return <p className="muted small">Press the AI key to see where its wait goes: keyboard, host, engine, display.</p>;
  return (
    <p
      className="press-split"
      data-testid="press-split"
      data-total-ms={attr(split.total)}
      data-keyboard-ms={attr(split.keyboard)}
      data-host-ms={attr(split.host)}
      data-engine-ms={attr(split.engine)}
      data-ttft-ms={attr(split.ttft)}
      data-display-ms={attr(split.display)}
    >
      <strong>Last press: {ms(split.total)} ms</strong> from key release to the first word on screen = keyboard {ms(split.keyboard)} + host{' '}
      {ms(split.host)} + engine {ms(split.engine)} (its time to first token {ms(split.ttft)}) + display {ms(split.display)} ms
      {split.display === null ? ' (not shown in this window)' : split.errorMs !== null ? ` (clock ±${ms(split.errorMs)})` : ''}
    </p>
  );
}
