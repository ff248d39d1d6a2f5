// A reasoning model's reply split into thinking and answer, as it streams:
// tags split across tokens, no tags at all, a block the prompt opened, a block
// never closed, text after </think>; and any way of cutting the reply into
// tokens gives the same two parts as the whole reply at once.
import * as assert from 'node:assert/strict';
import { test } from 'node:test';

import * as fc from 'fast-check';

import { ThinkingSplit, hasThinkingSwitch, openedThinking, splitThinking } from '../../common/thinking';

/** The reply fed token by token: the parts each push added, and the totals. */
function stream(tokens: readonly string[], opened = false): { thinking: string[]; answer: string[]; total: { thinking: string; answer: string } } {
  const split = new ThinkingSplit(opened);
  const thinking: string[] = [];
  const answer: string[] = [];
  for (const t of [...tokens.map((x) => split.push(x)), split.end()]) {
    thinking.push(t.thinking);
    answer.push(t.answer);
  }
  assert.equal(thinking.join(''), split.thinking, 'the deltas add up to the totals');
  assert.equal(answer.join(''), split.answer);
  return { thinking, answer, total: { thinking: split.thinking, answer: split.answer } };
}

test('Qwen3: the thinking between the tags, the answer after, neither tag shown', () => {
  assert.deepEqual(splitThinking('<think>\nThe user greets me.\n</think>\n\nHello!'), { thinking: 'The user greets me.\n', answer: 'Hello!' });
});

test('tags split across tokens are still tags, and the text around them goes to its part at once', () => {
  const r = stream(['<', 'thi', 'nk>', 'Hmm', ', yes.</', 'think', '>\n', '\nSure', '.']);
  assert.deepEqual(r.total, { thinking: 'Hmm, yes.', answer: 'Sure.' });
  assert.deepEqual(r.thinking, ['', '', '', 'Hmm', ', yes.', '', '', '', '', '']);
  assert.deepEqual(r.answer, ['', '', '', '', '', '', '', 'Sure', '.', '']);
});

test('no tags: all answer, each token as it comes (a "<" in the text waits only while it may start a tag)', () => {
  const r = stream([' Once', ' upon', ' a <b> time', ' 3 < 4', ' <']);
  assert.deepEqual(r.total, { thinking: '', answer: ' Once upon a <b> time 3 < 4 <' });
  assert.deepEqual(r.answer, [' Once', ' upon', ' a <b> time', ' 3 < 4', ' ', '<']);
});

test('a block the prompt opened: the reply is thinking until </think>', () => {
  const r = stream(['Let me see', '.\n</think>', '\n\n', 'Four.'], true);
  assert.deepEqual(r.total, { thinking: 'Let me see.\n', answer: 'Four.' });
  assert.deepEqual(r.answer, ['', '', '', 'Four.', '']);
});

test('a block never closed (the reply ran out of tokens) is all thinking, and no answer', () => {
  assert.deepEqual(splitThinking('<think>\nStill thinking about it', false), { thinking: 'Still thinking about it', answer: '' });
  assert.deepEqual(splitThinking('Still thinking', true), { thinking: 'Still thinking', answer: '' });
  // A tag cut off by the end of the reply was text after all.
  assert.deepEqual(splitThinking('<think>a</thi'), { thinking: 'a</thi', answer: '' });
});

test('text after </think> is answer, whatever follows; stray tags are dropped, never shown', () => {
  assert.deepEqual(splitThinking('<think>x</think>A<think>y</think>B'), { thinking: 'xy', answer: 'AB' });
  assert.deepEqual(splitThinking('A</think>B'), { thinking: '', answer: 'AB' });
  assert.deepEqual(splitThinking('<think>x<think>y</think>z'), { thinking: 'xy', answer: 'z' });
  // Thinking switched off: Qwen3's empty block in the reply itself.
  assert.deepEqual(splitThinking('<think>\n\n</think>\n\nHi'), { thinking: '', answer: 'Hi' });
});

test('any cutting of a reply into tokens gives the same parts as the whole reply', () => {
  const piece = fc.constantFrom('<think>', '</think>', '<', '</', 'think', '>', '\n', ' ', 'a', 'Hello', '<b>', 'é', '🙂');
  fc.assert(
    fc.property(fc.array(piece, { maxLength: 30 }), fc.array(fc.nat(40), { maxLength: 10 }), fc.boolean(), (pieces, cuts, opened) => {
      const text = pieces.join('');
      const at = [...new Set(cuts.map((c) => Math.min(c, text.length)))].sort((a, b) => a - b);
      const tokens: string[] = [];
      let from = 0;
      for (const c of [...at, text.length]) {
        tokens.push(text.slice(from, c));
        from = c;
      }
      assert.deepEqual(stream(tokens, opened).total, splitThinking(text, opened));
    }),
  );
});

test('a long reply streams in time linear in its length (nothing before a token is looked at again)', () => {
  // 200k tokens of text that keeps looking like a tag's start: quadratic work would take minutes.
  const split = new ThinkingSplit();
  const t0 = performance.now();
  for (let i = 0; i < 200_000; i++) split.push(i % 2 === 0 ? 'a <' : 'th');
  split.end();
  assert.equal(split.answer.length, 200_000 * 2.5);
  assert.ok(performance.now() - t0 < 5_000);
});

test('the prompt opens the block: Qwen3.5, QwQ and R1 end their generation prompt with <think>; a closed block opens nothing', () => {
  assert.equal(openedThinking('<|im_start|>assistant\n<think>\n'), '<think>\n');
  assert.equal(openedThinking('<｜Assistant｜><think>\n'), '<think>\n');
  assert.equal(openedThinking('<|im_start|>assistant\n<think>\n\n</think>\n\n'), '');
  assert.equal(openedThinking('<|im_start|>user\nwhat is <think>?<|im_end|>\n<|im_start|>assistant\n'), '');
  assert.equal(openedThinking('no tags'), '');
});

test('a template has the Thinking switch when it reads enable_thinking', () => {
  assert.equal(hasThinkingSwitch('{%- if enable_thinking is defined and enable_thinking is false %}'), true);
  assert.equal(hasThinkingSwitch('{{ bos_token }}{% for m in messages %}{% endfor %}'), false);
});
