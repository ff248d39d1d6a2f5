// The reply as it streams in. Its own component, subscribed to the reply's
// text alone, so a token re-renders this element and nothing else on the
// page. When a press's text first reaches the page it tells the store the
// moment (before the browser paints: the DOM holds it), which the Performance
// view's split times the display stage by (store/press-split.ts).
import { useLayoutEffect } from 'react';

import { preciseNowMs } from '../../common/clock';
import { useUi } from '../app/context';

/** Models often begin with the space their tokenizer glues to the first word; on screen it is only an indent. */
export function displayText(text: string): string {
  return text.replace(/^\s+/, '');
}

export function ReplyText() {
  const pressId = useUi((s) => s.reply?.pressId ?? null);
  const text = useUi((s) => displayText(s.reply?.text ?? ''));
  const done = useUi((s) => s.reply?.done ?? null);
  const replyShown = useUi((s) => s.replyShown);
  const visible = text !== '';
  useLayoutEffect(() => {
    if (pressId !== null && visible) replyShown(pressId, preciseNowMs());
  }, [pressId, visible, replyShown]);
  const streaming = done === false;
  return (
    <div
      className={`reply ${streaming ? 'streaming' : ''}`}
      data-testid="reply"
      data-press={pressId ?? undefined}
      data-done={done === null ? undefined : String(done)}
      aria-live="polite"
      aria-busy={streaming}
    >
      {text}
    </div>
  );
}
