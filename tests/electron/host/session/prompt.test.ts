// Prompt building: the plain layout for models without a chat template, a
// GGUF-style Jinja template rendered by @huggingface/jinja, BOS handled once,
// the persona folded into the user's turn when a template refuses a system
// message, and a prefix that every press with the same persona shares.
// The templates here are small ones written for the test, in the shape real
// GGUF files carry (ChatML-style turns, a BOS variable, a raise_exception guard).
import * as assert from 'node:assert/strict';
import { test } from 'node:test';

import { PromptBuilder, commonPrefix, plain } from '../../../../electron/host/session/prompt';

const chatml =
  '{% for m in messages %}<|im_start|>{{ m.role }}\n{{ m.content }}<|im_end|>\n{% endfor %}' +
  '{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}';
const withBos = '{{ bos_token }}{% for m in messages %}[{{ m.role }}] {{ m.content }}\n{% endfor %}[assistant]';
const noSystem =
  "{% if messages[0]['role'] == 'system' %}{{ raise_exception('System role not supported') }}{% endif %}" +
  '{% for m in messages %}<start_of_turn>{{ m.role }}\n{{ m.content }}<end_of_turn>\n{% endfor %}<start_of_turn>model\n';

const info = (chatTemplate: string) => ({ chatTemplate, bosToken: '<s>', eosToken: '</s>' });

test('without a chat template: the plain layout, BOS from the engine', () => {
  const b = new PromptBuilder(info(''));
  const r = b.render('Be kind.', 'Hello');
  assert.equal(r.prompt, 'Be kind.\n\nUser: Hello\nAssistant:');
  assert.equal(r.template, 'plain');
  assert.equal(r.addBos, true);
  assert.equal(r.parseSpecial, false, "a user's text is never read as special tokens");
  assert.equal(r.prefix, 'Be kind.\n\nUser: ');
  assert.equal(plain('', 'Hi'), 'User: Hi\nAssistant:');
});

test("a chat template is rendered with the persona as the system turn and a generation prompt", () => {
  const r = new PromptBuilder(info(chatml)).render('Be kind.', 'Hello');
  assert.equal(r.prompt, '<|im_start|>system\nBe kind.<|im_end|>\n<|im_start|>user\nHello<|im_end|>\n<|im_start|>assistant\n');
  assert.equal(r.template, 'chat');
  assert.equal(r.parseSpecial, true);
  assert.equal(r.prefix, '<|im_start|>system\nBe kind.<|im_end|>\n<|im_start|>user\n');
});

test('a template that writes BOS itself: the engine must not add another', () => {
  const r = new PromptBuilder(info(withBos)).render('P', 'Q');
  assert.equal(r.prompt, '<s>[system] P\n[user] Q\n[assistant]');
  assert.equal(r.addBos, false);
});

test('a template that refuses a system message gets the persona in the user turn', () => {
  const r = new PromptBuilder(info(noSystem)).render('Be kind.', 'Hello');
  // Jinja drops a template's final newline (keep_trailing_newline is off by default).
  assert.equal(r.prompt, '<start_of_turn>user\nBe kind.\n\nHello<end_of_turn>\n<start_of_turn>model');
  assert.equal(r.prefix, '<start_of_turn>user\nBe kind.\n\n');
});

test('an empty persona sends no system turn', () => {
  assert.equal(new PromptBuilder(info(chatml)).render('  ', 'Hi').prompt, '<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n');
});

test('a template that does not parse: the plain layout, and the reason', () => {
  const b = new PromptBuilder(info('{% for %}'));
  assert.equal(b.kind, 'plain');
  assert.match(b.templateProblem ?? '', /chat template cannot be parsed/);
  assert.equal(b.render('P', 'Q').prompt, 'P\n\nUser: Q\nAssistant:');
});

test('the prefix is shared by every prompt with that persona, and is what warming prefills', () => {
  for (const template of ['', chatml, withBos, noSystem]) {
    const b = new PromptBuilder(info(template));
    const { prefix } = b.prefix('Persona text');
    assert.ok(prefix.length > 0, template);
    for (const text of ['a', 'Hello there', 'Ünïcødé 😀', '']) {
      assert.ok(b.render('Persona text', text).prompt.startsWith(prefix), `${template}: ${text}`);
    }
  }
});

test('commonPrefix never splits a surrogate pair', () => {
  assert.equal(commonPrefix('ab😀', 'ab😁'), 'ab');
  assert.equal(commonPrefix('abc', 'abd'), 'ab');
  assert.equal(commonPrefix('', 'x'), '');
});

test('a conversation: earlier turns in order, the last prompt and its reply a prefix of the next', () => {
  const turns = [
    { role: 'user' as const, content: 'Hi' },
    { role: 'assistant' as const, content: ' Hello there.' },
  ];
  const plainB = new PromptBuilder(info(''));
  const first = plainB.render('Be kind.', 'Hi');
  const second = plainB.render('Be kind.', 'And you?', { key: 'c:0:2', turns });
  assert.equal(second.prompt, 'Be kind.\n\nUser: Hi\nAssistant: Hello there.\nUser: And you?\nAssistant:');
  assert.ok(second.prompt.startsWith(first.prompt + turns[1]!.content), 'the cache holds the first prompt and its reply');
  assert.equal(second.prefix, 'Be kind.\n\nUser: Hi\nAssistant: Hello there.\nUser: ');
  // A reply that does not start with a space gets one, as the layout writes it.
  assert.equal(plain('', 'b', [{ role: 'user', content: 'a' }, { role: 'assistant', content: 'x' }]), 'User: a\nAssistant: x\nUser: b\nAssistant:');

  const chat = new PromptBuilder(info(chatml)).render('Be kind.', 'And you?', { key: 'c:0:2', turns });
  assert.equal(
    chat.prompt,
    '<|im_start|>system\nBe kind.<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n Hello there.<|im_end|>\n' +
      '<|im_start|>user\nAnd you?<|im_end|>\n<|im_start|>assistant\n',
  );
  // A template without a system role: the persona joins the first user turn, not the newest.
  const folded = new PromptBuilder(info(noSystem)).render('Be kind.', 'And you?', { key: 'c:0:2', turns });
  assert.ok(folded.prompt.startsWith('<start_of_turn>user\nBe kind.\n\nHi<end_of_turn>'), folded.prompt);
});

test('the rendered prompt is kept per history: another history with the same text renders anew', () => {
  const b = new PromptBuilder(info(''));
  const a = b.render('', 'q', { key: 'c:0:0', turns: [] });
  const c = b.render('', 'q', { key: 'c:0:2', turns: [{ role: 'user', content: 'x' }, { role: 'assistant', content: ' y' }] });
  assert.notEqual(a.prompt, c.prompt);
});
