// The session's conversation (chat.ts) over a real store: the history a press
// continues follows the reply version the user chose, so the prompt is never
// rendered from a version no longer shown; and a character's greeting opens
// the model's view of the exchange.
import * as assert from 'node:assert/strict';
import { test } from 'node:test';

import type { Conversation, Turn } from '../../../../common/contract';
import { Chat } from '../../../../electron/host/session/chat';
import { PromptBuilder } from '../../../../electron/host/session/prompt';
import { ConversationStore } from '../../../../electron/host/storage/conversation-store';
import { tempDir } from '../../../support/repo';

function turn(role: Turn['role'], text: string, press: string): Turn {
  return { role, text, press_id: press, t_ms: 1, stop: role === 'assistant' ? 'eos' : null, prompt_tokens: null, cached_tokens: null };
}

test('the history follows the chosen version of a reply, and its cache key changes with it', async () => {
  const store = await ConversationStore.open(tempDir('keymate-chat-'), () => 0);
  const seen: Conversation[] = [];
  const chat = new Chat(store, { turn: () => undefined, conversation: (c) => seen.push(c), failed: (m) => assert.fail(m) });
  const id = store.current.id;
  await store.append(id, turn('user', 'Hi', 'p1'));
  await store.append(id, turn('assistant', ' first', 'p1'));
  await store.addVersion(id, 1, { text: ' second', t_ms: 2, stop: 'eos', prompt_tokens: null, cached_tokens: null });
  const builder = new PromptBuilder({ chatTemplate: '', bosToken: '<s>', eosToken: '</s>' });

  const withSecond = chat.history(chat.next());
  assert.equal(withSecond.turns[1]?.content, ' second');
  assert.match(builder.render('', 'Next', withSecond).prompt, /Assistant: second\nUser: Next/);

  await chat.choose(0);
  const withFirst = chat.history(chat.next());
  assert.equal(withFirst.turns[1]?.content, ' first');
  assert.notEqual(withFirst.key, withSecond.key);
  assert.match(builder.render('', 'Next', withFirst).prompt, /Assistant: first\nUser: Next/, 'not the version no longer shown');
  assert.equal(seen.at(-1)?.turns[1]?.chosen, 0);
});

test("a character's greeting is the first thing the model reads; a template that refuses it reads the exchange without it", async () => {
  const store = await ConversationStore.open(tempDir('keymate-chat-'), () => 0);
  const chat = new Chat(store, { turn: () => undefined, conversation: () => undefined, failed: (m) => assert.fail(m) });
  const pip = { id: 'k1', name: 'Pip', persona: 'You are Pip.', greeting: 'Hello!', alternate_greetings: [], sampling: {}, card: { spec: 'chara_card_v2' } } as never;
  await chat.startNew(pip);
  const press = chat.ask('p1', 'Who are you?', 1);
  const history = chat.history(press);
  assert.deepEqual(history.turns, [{ role: 'assistant', content: 'Hello!' }]);
  const chatml = new PromptBuilder({
    chatTemplate: '{% for m in messages %}<|im_start|>{{ m.role }}\n{{ m.content }}<|im_end|>\n{% endfor %}<|im_start|>assistant\n',
    bosToken: '',
    eosToken: '',
  });
  assert.equal(
    chatml.render('You are Pip.', 'Who are you?', history).prompt,
    '<|im_start|>system\nYou are Pip.<|im_end|>\n<|im_start|>assistant\nHello!<|im_end|>\n<|im_start|>user\nWho are you?<|im_end|>\n<|im_start|>assistant', // Jinja drops the template's last newline
  );
  // Gemma's rule: roles alternate, the user's first (and no system role).
  const strict = new PromptBuilder({
    chatTemplate:
      "{% for m in messages %}{% if (m['role'] == 'user') != (loop.index0 % 2 == 0) %}{{ raise_exception('roles must alternate') }}{% endif %}" +
      '<start_of_turn>{{ m.role }}\n{{ m.content }}<end_of_turn>\n{% endfor %}<start_of_turn>model\n',
    bosToken: '',
    eosToken: '',
  });
  assert.equal(strict.render('You are Pip.', 'Who are you?', history).prompt, '<start_of_turn>user\nYou are Pip.\n\nWho are you?<end_of_turn>\n<start_of_turn>model');
});
