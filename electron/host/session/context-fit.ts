// Which turns of a conversation the model sees: all of them while they fit
// its context, the newest ones when they no longer do. A reply never fails
// for want of context: the prompt keeps room for the reply (up to half the
// context), and when it would not, the oldest turns are dropped, whole
// exchanges at a time, the persona kept.
//
// Dropping changes the prompt right after the persona, so the engine's
// prefix cache can reuse only the persona's KV for that press. So when turns
// must go, enough go that the prompt falls a quarter below its budget: the
// next few presses fit again, and each prefills only its own tokens.
import { GREETING, type Turn } from '../../../common/contract/conversation';
import type { ChatTurn } from './prompt';

/** Tokens the prompt may take: the context less the room kept for the reply (at most half of it). */
export function promptBudget(context: number, maxTokens: number): number {
  return context - Math.min(maxTokens, Math.floor(context / 2));
}

/**
 * The first turn to show (turns before it are dropped), given the first one
 * shown now and `count(from)`, the prompt's tokens when the model sees the
 * turns from `from` on. Keeps `from` while the prompt fits the budget.
 */
export function fitFrom(turns: readonly Turn[], from: number, budget: number, count: (from: number) => number): number {
  if (count(from) <= budget) return from;
  // Where an exchange starts: a dropped part never ends inside one.
  const starts: number[] = [];
  for (let i = from + 1; i < turns.length; i++) if (turns[i]!.role === 'user') starts.push(i);
  starts.push(turns.length);
  const target = budget - Math.floor(budget / 4);
  // The prompt shrinks as `from` grows: the first start that meets the target, by bisection.
  let lo = 0;
  let hi = starts.length - 1;
  if (count(starts[hi]!) > target) return starts[hi]!; // the new text alone is that long: no history at all
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (count(starts[mid]!) <= target) hi = mid;
    else lo = mid + 1;
  }
  return starts[lo]!;
}

/**
 * What the model reads of `turns[from, upTo)`: a character's greeting, then
 * each question with its reply, in order. A question left without a reply
 * (it failed, or was stopped before a word) and notices are not part of the
 * exchange, so the roles alternate as chat templates expect.
 */
export function modelTurns(turns: readonly Turn[], from: number, upTo: number): ChatTurn[] {
  const said = turns.slice(from, upTo).filter((t) => t.role !== 'notice');
  const out: ChatTurn[] = [];
  if (said[0]?.role === 'assistant' && said[0].press_id === GREETING) out.push({ role: 'assistant', content: said.shift()!.text });
  for (let i = 0; i < said.length; i++) {
    const t = said[i]!;
    const next = said[i + 1];
    if (t.role === 'user' && next?.role === 'assistant' && next.text !== '') {
      out.push({ role: 'user', content: t.text }, { role: 'assistant', content: next.text });
      i++;
    }
  }
  return out;
}
