// The reply as it streams in: the one element a token changes, drawn from the
// store directly rather than through React. A token arrives as a WebSocket
// (or IPC) message; React renders the store's changes a task later, after any
// messages queued behind it (bench-press saw the first word reach the page
// 4 ms after its message, behind the key and session events of the same
// press). So this element subscribes to the store itself and, in the
// message's own task, appends the token's text: no render, no diff. Each line
// of the reply is a block of its own, so what the browser lays out again for
// a token is the last line, not the whole reply (one growing text node cost a
// long reply's page half its time in layout and string copies). React draws
// the empty shell once. When a
// press's text first reaches the DOM, the store hears the moment (before the
// browser paints), which the Performance view times the display stage by
// (store/press-split.ts).
//
// A reasoning model's thinking streams the same way into a block of its own
// (ReplyThinking) above the answer; the overlay shows the answer alone.
import './reply-text.css';

import { useLayoutEffect, useRef } from 'react';

import { preciseNowMs } from '../../common/clock';
import { useUiStore } from '../app/context';
import type { UiState } from '../store/store';

/** Longest text node of a line: appending to a text node copies it, so its length bounds a token's cost. */
const TEXT_NODE_CHARS = 256;

/** Models often begin with the space their tokenizer glues to the first word; on screen it is only an indent. */
export function displayText(text: string): string {
  return text.replace(/^\s+/, '');
}

export function ReplyText() {
  const ref = useStreamedText('text');
  return <div ref={ref} className="reply" data-testid="reply" aria-live="polite" />;
}

/**
 * A reasoning model's thinking, streamed the same way, in a block of its own
 * above the answer that folds away; hidden while the reply has none.
 */
export function ReplyThinking() {
  const ref = useStreamedText('thinking');
  return (
    <details className="thinking" data-testid="reply-thinking" open hidden>
      <summary>Thinking</summary>
      <div ref={ref} className="reply thinking-text" />
    </details>
  );
}

/** Draws the reply's answer or thinking into the element the ref gets, outside React (see above). */
function useStreamedText(part: 'text' | 'thinking') {
  const store = useUiStore();
  const ref = useRef<HTMLDivElement>(null);
  useLayoutEffect(() => {
    const el = ref.current;
    if (el === null) return;
    // The thinking's block shows only while there is thinking to show.
    const box = part === 'thinking' ? el.closest('details') : null;
    let press: string | null = null;
    let text = '';
    let shown: string | null = null;
    let block: HTMLDivElement | null = null; // the last line: the only one still growing
    let tail: Text | null = null; // its last text node, kept short: appending copies it
    const append = (t: string): void => {
      t.split('\n').forEach((line, i) => {
        if (i > 0 || block === null) {
          block = document.createElement('div');
          block.className = 'reply-line';
          el.appendChild(block);
          tail = null;
        }
        if (line === '') return;
        if (tail === null || tail.length >= TEXT_NODE_CHARS) {
          tail = document.createTextNode(line);
          block.appendChild(tail);
        } else {
          tail.appendData(line);
        }
      });
    };
    const draw = (s: UiState): void => {
      const r = s.reply;
      const id = r?.pressId ?? null;
      if (id !== press) {
        press = id;
        if (id === null) el.removeAttribute('data-press');
        else el.setAttribute('data-press', id);
      }
      const next = displayText(r?.[part] ?? '');
      if (next !== text) {
        if (!next.startsWith(text)) {
          el.replaceChildren();
          block = null;
          text = '';
        }
        append(next.slice(text.length));
        text = next;
      }
      if (box !== null && box.hidden !== (next === '')) box.hidden = next === '';
      const streaming = r !== null && !r.done;
      if (r === null) el.removeAttribute('data-done');
      else el.setAttribute('data-done', String(r.done));
      el.classList.toggle('streaming', streaming);
      el.setAttribute('aria-busy', String(streaming));
      // Only a reply this window is receiving live: one drawn later (a view opened after it,
      // a snapshot on reconnecting) was not waited for, and its moment would time nothing.
      // Thinking is text on screen too: whichever part shows first is the moment.
      if (r !== null && id !== null && next !== '' && !r.done && r.live !== null && r.shownMs === null && shown !== id) {
        shown = id;
        s.replyShown(id, preciseNowMs());
      }
    };
    el.replaceChildren();
    draw(store.getState());
    return store.subscribe(draw);
  }, [store, part]);
  return ref;
}
