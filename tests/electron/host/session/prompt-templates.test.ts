// Prompts rendered through the real chat templates of the families the
// engine runs (llama.cpp's models/templates/, from node-llama-cpp's bundle:
// tests/support/templates.ts): Qwen3's thinking on and off, the templates
// that open the thinking block themselves (Qwen3.5, QwQ, DeepSeek-R1), and
// for every family a two-turn conversation whose earlier reply ends with the
// family's end-of-turn text, which is one of the engine's end-of-generation
// tokens: where a reply stops is where the template expects it to.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';

import { hasThinkingSwitch, splitThinking } from '../../../../common/thinking';
import { type ChatTurn, PromptBuilder } from '../../../../electron/host/session/prompt';
import { root } from '../../../support/repo';
import { realTemplate } from '../../../support/templates';

const PERSONA = 'You are Keymate. Answer briefly.';
const history = (reply: string): { key: string; turns: ChatTurn[] } => ({
  key: reply,
  turns: [
    { role: 'user', content: 'Hi' },
    { role: 'assistant', content: reply },
  ],
});

/** The engine's end-of-generation token texts (native/src/tokenizer_vocab.cpp's kEogTexts), C literals decoded. */
function engineEogTexts(): string[] {
  const source = fs.readFileSync(path.join(root, 'native', 'src', 'tokenizer_vocab.cpp'), 'utf8');
  const list = /kEogTexts\[\]\s*=\s*\{([\s\S]*?)\};/.exec(source)?.[1];
  assert.ok(list !== undefined, 'kEogTexts in tokenizer_vocab.cpp');
  // Entries are split by commas; an entry may be adjacent literals ("<\xEF\xBD\x9C" "end..."), which C joins.
  const texts: string[] = [];
  let bytes: number[] = [];
  for (const m of list.matchAll(/"((?:[^"\\]|\\.)*)"|,/g)) {
    if (m[0] === ',') {
      texts.push(Buffer.from(bytes).toString('utf8'));
      bytes = [];
      continue;
    }
    const lit = m[1] ?? '';
    for (let i = 0; i < lit.length; i++) {
      if (lit[i] === '\\' && lit[i + 1] === 'x') {
        bytes.push(parseInt(lit.slice(i + 2, i + 4), 16));
        i += 3;
      } else {
        if (lit[i] === '\\') i++;
        bytes.push(...Buffer.from(lit[i] ?? '', 'utf8'));
      }
    }
  }
  if (bytes.length > 0) texts.push(Buffer.from(bytes).toString('utf8'));
  return texts;
}

test("the engine's end-of-generation texts read from its source include every family's end of turn", () => {
  const eog = engineEogTexts();
  for (const t of ['<|im_end|>', '<end_of_turn>', '<|end|>', '<|eot_id|>', '<｜end▁of▁sentence｜>']) assert.ok(eog.includes(t), `${t} in ${JSON.stringify(eog)}`);
});

test('Qwen3: thinking on leaves the reply to the model; off, the prompt holds an empty, closed block', () => {
  const template = realTemplate('Qwen-Qwen3-0.6B');
  assert.equal(hasThinkingSwitch(template), true);
  const info = { chatTemplate: template, bosToken: '', eosToken: '<|im_end|>' };
  const on = new PromptBuilder(info).render(PERSONA, 'What is 2+2?');
  assert.equal(on.prompt, `<|im_start|>system\n${PERSONA}<|im_end|>\n<|im_start|>user\nWhat is 2+2?<|im_end|>\n<|im_start|>assistant\n`);
  assert.equal(on.thinkingOpened, '', 'Qwen3 writes its own <think>');
  const off = new PromptBuilder(info, { thinking: false }).render(PERSONA, 'What is 2+2?');
  assert.equal(off.prompt, `${on.prompt}<think>\n\n</think>\n\n`);
  assert.equal(off.thinkingOpened, '');
  assert.equal(off.prefix, on.prefix, 'the switch changes the generation prompt only');
});

test("Qwen3: an earlier reply is stored with its thinking, and the template shows the model only the answer", () => {
  const info = { chatTemplate: realTemplate('Qwen-Qwen3-0.6B'), bosToken: '', eosToken: '<|im_end|>' };
  const raw = '<think>\nThe user greets me.\n</think>\n\nHello!';
  assert.deepEqual(splitThinking(raw), { thinking: 'The user greets me.\n', answer: 'Hello!' });
  const r = new PromptBuilder(info).render(PERSONA, 'How are you?', history(raw));
  assert.ok(r.prompt.includes('<|im_start|>assistant\nHello!<|im_end|>\n<|im_start|>user\nHow are you?<|im_end|>\n'), r.prompt);
  assert.ok(!r.prompt.includes('The user greets me'), 'earlier thinking is not shown again');
});

// Templates whose generation prompt opens the block: the reply starts inside the thinking.
for (const name of ['Qwen3.5-4B', 'Qwen-QwQ-32B', 'deepseek-ai-DeepSeek-R1-Distill-Qwen-32B']) {
  test(`${name}: the generation prompt opens <think>; with thinking off it is closed at once`, () => {
    const info = { chatTemplate: realTemplate(name), bosToken: '<｜begin▁of▁sentence｜>', eosToken: '<｜end▁of▁sentence｜>' };
    const on = new PromptBuilder(info).render(PERSONA, 'What is 2+2?');
    assert.equal(on.thinkingOpened, '<think>\n', on.prompt);
    assert.ok(on.prompt.endsWith('<think>\n'));
    const off = new PromptBuilder(info, { thinking: false }).render(PERSONA, 'What is 2+2?');
    assert.equal(off.thinkingOpened, '', off.prompt);
    assert.ok(off.prompt.startsWith(on.prompt) && /^\n*<\/think>\n*$/.test(off.prompt.slice(on.prompt.length)), off.prompt);
    // A reply that began inside the block is stored with the block's opening: it splits alone, and the template strips it.
    const raw = `${on.thinkingOpened}Two and two.\n</think>\n\nFour.`;
    assert.deepEqual(splitThinking(raw), { thinking: 'Two and two.\n', answer: 'Four.' });
    const next = new PromptBuilder(info).render(PERSONA, 'And 3+3?', history(raw));
    assert.ok(next.prompt.includes('Four.') && !next.prompt.includes('Two and two'), next.prompt);
  });
}

interface Family {
  template: string;
  bos: string;
  eos: string;
  /** The text the template puts after a reply: the turn's end, where the engine stops. */
  endOfTurn: string;
  /** The template shows an earlier reply as the model wrote it after the generation prompt: the next prompt continues the last one. */
  continues: boolean;
}

const FAMILIES: Record<string, Family> = {
  qwen3: { template: 'Qwen-Qwen3-0.6B', bos: '', eos: '<|im_end|>', endOfTurn: '<|im_end|>', continues: true },
  'qwen3.5': { template: 'Qwen3.5-4B', bos: '', eos: '<|im_end|>', endOfTurn: '<|im_end|>', continues: false },
  qwq: { template: 'Qwen-QwQ-32B', bos: '', eos: '<|im_end|>', endOfTurn: '<|im_end|>', continues: false },
  'deepseek-r1': { template: 'deepseek-ai-DeepSeek-R1-Distill-Qwen-32B', bos: '<｜begin▁of▁sentence｜>', eos: '<｜end▁of▁sentence｜>', endOfTurn: '<｜end▁of▁sentence｜>', continues: false },
  'phi-3.5 / phi-4-mini': { template: 'microsoft-Phi-3.5-mini-instruct', bos: '<s>', eos: '<|endoftext|>', endOfTurn: '<|end|>', continues: true },
  smollm3: { template: 'HuggingFaceTB-SmolLM3-3B', bos: '', eos: '<|im_end|>', endOfTurn: '<|im_end|>', continues: true },
  'llama 3.2': { template: 'meta-llama-Llama-3.2-3B-Instruct', bos: '<|begin_of_text|>', eos: '<|eot_id|>', endOfTurn: '<|eot_id|>', continues: true },
  gemma: { template: 'google-gemma-2-2b-it', bos: '<bos>', eos: '<eos>', endOfTurn: '<end_of_turn>', continues: true },
};

for (const [family, f] of Object.entries(FAMILIES)) {
  test(`${family}: a two-turn conversation renders, and the earlier reply ends with ${f.endOfTurn}, an end-of-generation token`, () => {
    const b = new PromptBuilder({ chatTemplate: realTemplate(f.template), bosToken: f.bos, eosToken: f.eos });
    assert.equal(b.kind, 'chat');
    assert.equal(b.templateProblem, null);
    const reply = 'Hello there.';
    const first = b.render(PERSONA, 'Hi');
    const second = b.render(PERSONA, 'How are you?', history(reply));
    assert.ok(second.prompt.includes(`${reply}${f.endOfTurn}`), `${family}: ${JSON.stringify(second.prompt)}`);
    assert.ok(engineEogTexts().includes(f.endOfTurn), `${f.endOfTurn} stops the engine`);
    assert.ok(second.prompt.includes('Hi') && second.prompt.includes('How are you?') && second.prompt.includes(PERSONA));
    assert.ok(second.prompt.startsWith(second.prefix) && second.prefix.length > 0);
    // The BOS the template writes is not added again by the engine.
    assert.equal(second.addBos, !(f.bos !== '' && second.prompt.startsWith(f.bos)));
    if (f.continues) assert.ok(second.prompt.startsWith(`${first.prompt}${reply}${f.endOfTurn}`), `${family}: the last prompt and its reply lead the next`);
  });
}
