// Fitting a conversation to the context: all turns while they fit, whole
// exchanges dropped (oldest first) to a quarter under the budget when they do
// not, and only answered questions shown to the model.
import * as assert from 'node:assert/strict';
import { test } from 'node:test';

import type { Turn } from '../../../../common/contract/conversation';
import { fitFrom, modelTurns, promptBudget } from '../../../../electron/host/session/context-fit';

function turn(role: Turn['role'], text: string, press = 'p'): Turn {
  return { role, text, press_id: press, t_ms: 0, stop: role === 'assistant' ? 'eos' : null, prompt_tokens: null, cached_tokens: null };
}

/** n exchanges of `size` tokens each, and a counter: 10 tokens of persona and new text, plus every turn shown. */
function conversation(n: number, size: number): { turns: Turn[]; count: (from: number) => number; calls: number[] } {
  const turns: Turn[] = [];
  for (let i = 0; i < n; i++) turns.push(turn('user', `q${i}`, `p${i}`), turn('assistant', `a${i}`, `p${i}`));
  const calls: number[] = [];
  const count = (from: number): number => {
    calls.push(from);
    return 10 + (turns.length - from) * size;
  };
  return { turns, count, calls };
}

test('the reply keeps its room, at most half the context', () => {
  assert.equal(promptBudget(512, 128), 384);
  assert.equal(promptBudget(512, 4096), 256);
});

test('turns that fit are all kept, counted once', () => {
  const c = conversation(3, 20);
  assert.equal(fitFrom(c.turns, 0, 384, c.count), 0);
  assert.deepEqual(c.calls, [0]);
});

test('past the budget whole exchanges go, oldest first, down to a quarter under it', () => {
  const c = conversation(10, 20); // 10 + 400 tokens: over 384
  const from = fitFrom(c.turns, 0, 384, c.count);
  const counted = c.calls.length;
  assert.equal(from % 2, 0, 'a dropped part ends where an exchange starts');
  assert.ok(c.count(from) <= 384 - 96, `prompt ${c.count(from)} tokens from turn ${from}`);
  assert.ok(c.count(from - 2) > 384 - 96, 'no more dropped than needed');
  assert.ok(counted <= 6, `bisection, not one count per turn: ${counted}`);
  // The next turn fits where it is: the cache reuses what is kept.
  c.turns.push(turn('user', 'q10'), turn('assistant', 'a10'));
  assert.equal(fitFrom(c.turns, from, 384, c.count), from);
});

test('a new text too long for any history: the model sees none of it', () => {
  const c = conversation(2, 20);
  assert.equal(fitFrom(c.turns, 0, 30, (from) => 100 + (c.turns.length - from) * 20), 4);
});

test('the model reads answered questions only; notices and unanswered questions are left out', () => {
  const turns = [
    turn('user', 'a'),
    turn('assistant', ' A'),
    turn('user', 'failed'),
    turn('user', 'b'),
    turn('notice', 'older turns dropped'),
    turn('assistant', ' B'),
    turn('user', 'stopped'),
    turn('assistant', ''),
  ];
  assert.deepEqual(
    modelTurns(turns, 0, turns.length).map((t) => `${t.role}:${t.content}`),
    ['user:a', 'assistant: A', 'user:b', 'assistant: B'],
  );
  assert.deepEqual(modelTurns(turns, 2, 4), []);
});
