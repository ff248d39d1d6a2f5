// The reply being streamed, or the last one. Every event carries its press id:
// a token for another press (a cancelled one still draining, or one that began
// before this window connected) is ignored, and a token that arrives out of
// order is placed by its index rather than appended blindly. `ask` and
// `cancelReply` are the text box's and the Stop button's requests; the reply
// itself then arrives as events like any other. A reasoning model's thinking
// comes apart from its answer (the host splits them): `thinking` grows beside
// `text` the same way.
import type { StateCreator } from 'zustand/vanilla';

import type { HostApi } from '../../common/contract';
import type {
  PressSource,
  ReplyDone,
  ReplyError,
  ReplySnapshot,
  ReplyStart,
  ReplyTimings,
  ReplyToken,
  StopReason,
} from '../../common/contract/session';
import { errorText } from './errors';
import type { UiState } from './store';

export interface Reply {
  pressId: string;
  source: PressSource;
  prompt: string;
  /** Token texts by index, grown in place while the press streams; `text` is their concatenation. */
  pieces: string[];
  /** The answer. */
  text: string;
  /** The same for a reasoning model's thinking, shown apart from the answer ('' when it did not think). */
  thinkingPieces: string[];
  thinking: string;
  done: boolean;
  stop: StopReason | null;
  timings: ReplyTimings | null;
  error: string | null;
  /** When the host started the reply (Unix epoch ms). */
  startedMs: number;
  /** While streaming: the first and the latest token, ms since the engine call (the tokens' t_ms). */
  live: { firstMs: number; lastMs: number; count: number } | null;
  /** When this window first showed its text, on the page's clock (common/clock.ts); null until then. */
  shownMs: number | null;
}

export interface ReplySlice {
  reply: Reply | null;
  replyStarted: (start: ReplyStart) => void;
  replyToken: (token: ReplyToken) => void;
  replyDone: (done: ReplyDone) => void;
  replyFailed: (error: ReplyError) => void;
  /** The reply's first text is on screen (called by the view that draws it, once per press). */
  replyShown: (pressId: string, pageMs: number) => void;
  /** A (re)connecting window catches up with the reply in progress or the last one. */
  replySnapshot: (snapshot: ReplySnapshot | null) => void;
  /** Sends a prompt without the key; rejects with the host's reason. */
  ask: (prompt: string) => Promise<void>;
  /** Stops the reply in progress; resolves whether there was one (a failure becomes a notice). */
  cancelReply: () => Promise<boolean>;
}

export const createReplySlice =
  (host: HostApi): StateCreator<UiState, [], [], ReplySlice> =>
  (set, get) => {
  const current = (pressId: string): Reply | null => {
    const r = get().reply;
    return r !== null && r.pressId === pressId ? r : null;
  };
  return {
    reply: null,
    replyStarted: (s) =>
      set({
        reply: {
          pressId: s.press_id,
          source: s.source,
          prompt: s.prompt,
          pieces: [],
          text: '',
          thinkingPieces: [],
          thinking: '',
          done: false,
          stop: null,
          timings: null,
          error: null,
          startedMs: s.t_ms,
          live: null,
          shownMs: null,
        },
      }),
    replyToken: (t) => {
      const r = current(t.press_id);
      if (r === null || r.done) return;
      // O(the new text) in order: `pieces` belongs to this press and grows in
      // place (nothing renders it), and the text is appended. An event
      // carries `count` tokens: its text takes the first one's slot and the
      // others stay empty. An event out of order takes its slots (a gap keeps
      // slots for the missing ones) and the text is joined again, which only
      // a reordering transport would cause.
      const count = t.count ?? 1;
      const inOrder = t.index === r.pieces.length;
      place(r.pieces, t.index, count, t.text);
      place(r.thinkingPieces, t.index, count, t.thinking ?? '');
      const live =
        r.live === null
          ? { firstMs: t.t_ms, lastMs: t.t_ms, count }
          : { firstMs: Math.min(r.live.firstMs, t.t_ms), lastMs: Math.max(r.live.lastMs, t.t_ms), count: r.live.count + count };
      const text = inOrder ? r.text + t.text : r.pieces.join('');
      const thinking = inOrder ? r.thinking + (t.thinking ?? '') : r.thinkingPieces.join('');
      set({ reply: { ...r, live, text, thinking } });
    },
    replyDone: (d) => {
      const r = current(d.press_id);
      if (r === null) return;
      // The host's completion is the authority: it has every token, in order.
      set({ reply: { ...r, text: d.completion, thinking: d.thinking, done: true, stop: d.stop, timings: d.timings } });
    },
    replyFailed: (e) => {
      const r = current(e.press_id);
      if (r === null) return;
      set({ reply: { ...r, done: true, error: e.message } });
    },
    replyShown: (pressId, pageMs) => {
      const r = current(pressId);
      if (r === null || r.shownMs !== null) return;
      set({ reply: { ...r, shownMs: pageMs } });
    },
    replySnapshot: (s) => {
      if (s === null) return;
      set({
        reply: {
          pressId: s.press_id,
          source: s.source,
          prompt: s.prompt,
          pieces: [s.text],
          text: s.text,
          thinkingPieces: [s.thinking],
          thinking: s.thinking,
          done: s.done,
          stop: s.stop,
          timings: s.timings,
          error: s.error,
          startedMs: 0,
          live: null,
          shownMs: null,
        },
      });
    },
    ask: async (prompt) => {
      await host.request('generate', { prompt });
    },
    cancelReply: async () => {
      try {
        return (await host.request('cancel', {})).cancelled;
      } catch (e) {
        get().addUiNotice('error', `Could not stop the reply: ${errorText(e)}`);
        return false;
      }
    },
  };
};

/** An event's `count` tokens take their slots from `index`: its text the first, the others empty (a gap keeps slots for the missing ones). */
function place(pieces: string[], index: number, count: number, text: string): void {
  while (pieces.length < index + count) pieces.push('');
  for (let i = 1; i < count; i++) pieces[index + i] = '';
  pieces[index] = text;
}

/** What the headline numbers show while a reply streams: measured from its tokens, final at done. */
export interface LiveTimings {
  ttftMs: number | null;
  decodeTokS: number | null;
  tokens: number;
}

export function liveTimings(r: Reply): LiveTimings {
  if (r.live === null) return { ttftMs: null, decodeTokS: null, tokens: 0 };
  const span = r.live.lastMs - r.live.firstMs;
  // Decode speed counts the tokens after the first, over the time they took.
  return { ttftMs: r.live.firstMs, decodeTokS: r.live.count > 1 && span > 0 ? ((r.live.count - 1) * 1000) / span : null, tokens: r.live.count };
}
