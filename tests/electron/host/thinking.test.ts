// A reasoning model's press through the host, on small random-weight qwen3
// models carrying real templates: the reply's thinking comes apart from its
// answer in every reply event, the conversation keeps the reply as the model
// wrote it, and the Thinking setting reaches the template. The weights are
// random, so the text is nonsense: the tests look at where it goes.
import * as assert from 'node:assert/strict';
import { test } from 'node:test';

import { splitThinking } from '../../../common/thinking';
import { tempDir } from '../../support/repo';
import { syntheticQwen3 } from '../../support/templates';
import { QUICK, type Rig, startHost } from './support';

const dir = tempDir('keymate-thinking-');

async function press(rig: Rig) {
  const h = rig.host.handlers;
  await h['key.press']({ source: 'screen' }, undefined);
  await h['key.release']({ source: 'screen' }, undefined);
  const done = await rig.next('reply.done');
  const turn = await rig.next('conversation.turn', (t) => t.turn.role === 'assistant');
  return { done, turn: turn.turn, tokens: rig.of('reply.token') };
}

test('Qwen3.5 opens the thinking in its prompt: the reply streams as thinking, the answer stays apart, the turn keeps it all', async (t) => {
  const model = await syntheticQwen3('Qwen3.5-4B', dir);
  const rig = await startHost(t, { model });
  assert.equal(rig.host.state().engine.model?.thinking_switch, true, 'the template reads enable_thinking');
  const { done, turn, tokens } = await press(rig);
  assert.notEqual(done.thinking.trim(), '', 'the reply began inside the block the prompt opened');
  assert.equal(tokens.map((x) => x.text).join(''), done.completion.slice(0, tokens.map((x) => x.text).join('').length), 'the answer streams apart');
  assert.ok(done.thinking.startsWith(tokens.map((x) => x.thinking ?? '').join('')), 'so does the thinking');
  assert.ok(tokens.some((x) => x.thinking !== undefined));
  assert.ok(!done.thinking.includes('<think>') && !done.completion.includes('<think>'), 'tags are never shown');
  // The conversation keeps what the model wrote, from the block the prompt opened: its template reads it back.
  assert.ok(turn.text.startsWith('<think>\n'), JSON.stringify(turn.text));
  assert.deepEqual(splitThinking(turn.text), { thinking: done.thinking, answer: done.completion });
  const snapshot = rig.host.state().reply;
  assert.equal(snapshot?.thinking, done.thinking);
  assert.equal(snapshot?.text, done.completion);
});

test('with the Thinking setting off, the same model answers at once: no thinking, and the turn is the answer', async (t) => {
  const model = await syntheticQwen3('Qwen3.5-4B', dir);
  const rig = await startHost(t, { model }, { ...QUICK, thinking: false });
  const { done, turn, tokens } = await press(rig);
  assert.equal(done.thinking, '');
  assert.notEqual(done.completion.trim(), '');
  assert.ok(tokens.every((x) => x.thinking === undefined));
  assert.equal(tokens.map((x) => x.text).join(''), done.completion.slice(0, tokens.map((x) => x.text).join('').length));
  assert.equal(splitThinking(turn.text).answer, done.completion);
  assert.ok(!turn.text.startsWith('<think>'));
});

test('Qwen3 writes its own <think> (here it does not: random weights): the reply is all answer; a template without the switch says so', async (t) => {
  const model = await syntheticQwen3('Qwen-Qwen3-0.6B', dir);
  const rig = await startHost(t, { model }, { ...QUICK, thinking: false });
  assert.equal(rig.host.state().engine.model?.thinking_switch, true);
  const { done } = await press(rig);
  assert.equal(done.thinking, '');
  assert.notEqual(done.completion.trim(), '');

  const plain = await startHost(t);
  assert.equal(plain.host.state().engine.model?.thinking_switch, false, 'stories260K has no template');
});

test('the Markdown export shows the thinking apart from the answer, without tags', async (t) => {
  const model = await syntheticQwen3('Qwen3.5-4B', dir);
  const rig = await startHost(t, { model });
  const { done, turn } = await press(rig);
  const c = await rig.host.handlers['conversation.get']({}, undefined);
  const md = (await rig.host.handlers['conversation.export']({ id: c.id, format: 'markdown' }, undefined)).text;
  assert.ok(md.includes('*Thinking:*'), md);
  assert.ok(!md.includes('<think>'), md);
  assert.ok(md.includes(`> ${done.thinking.trim().split('\n')[0] ?? ''}`), md);
  // JSON keeps every field as stored: the reply as the model wrote it.
  const json = (await rig.host.handlers['conversation.export']({ id: c.id, format: 'json' }, undefined)).text;
  assert.ok(json.includes(JSON.stringify(turn.text)));
});
