// The saved conversations: turns on disk once acknowledged, the current one
// remembered across a restart, a new one started, a double tap's turns taken
// back, and a damaged file set aside (never deleted) while the rest load.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';

import type { Turn } from '../../../../common/contract/conversation';
import { ConversationStore } from '../../../../electron/host/storage/conversation-store';
import { tempDir } from '../../../support/repo';

function turn(role: Turn['role'], text: string, press: string, t = 1): Turn {
  return { role, text, press_id: press, t_ms: t, stop: role === 'assistant' ? 'eos' : null, prompt_tokens: null, cached_tokens: null };
}

test('a first start has one empty conversation; turns survive a restart, and it stays the current one', async () => {
  const home = tempDir('keymate-conv-');
  const a = await ConversationStore.open(home, () => 0);
  const id = a.current.id;
  assert.deepEqual(a.current.turns, []);
  assert.equal(await a.append(id, turn('user', 'What is a  cat?\n', 'p1')), 0);
  assert.equal(await a.append(id, turn('assistant', ' A small animal.', 'p1', 2)), 1);
  assert.equal(a.current.title, 'What is a cat?');

  const b = await ConversationStore.open(home, () => 0);
  assert.deepEqual(b.problems, []);
  assert.equal(b.current.id, id);
  assert.deepEqual(b.current.turns.map((t) => t.text), ['What is a  cat?\n', ' A small animal.']);
  assert.equal(b.current.updated_ms, 2);
});

test('a new conversation becomes the current one; an empty current one is reused; the list is newest first', async () => {
  const home = tempDir('keymate-conv-');
  const s = await ConversationStore.open(home, () => 0);
  const first = s.current.id;
  assert.equal((await s.startNew(10)).id, first, 'nothing said yet: no second empty conversation');
  await s.append(first, turn('user', 'one', 'p1', 20));
  const second = await s.startNew(30);
  assert.notEqual(second.id, first);
  assert.equal(s.current.id, second.id);
  await s.append(second.id, turn('user', 'two', 'p2', 40));
  assert.deepEqual(s.list().map((c) => c.title), ['two', 'one']);
  const reopened = await ConversationStore.open(home, () => 0);
  assert.equal(reopened.current.id, second.id);
  await reopened.select(first);
  assert.equal((await ConversationStore.open(home, () => 0)).current.id, first);
  await assert.rejects(reopened.select('cnope-1'), /conversation cnope-1: there is no such conversation/);
});

test("withdrawing a press takes back its turns only, and the model's view stays inside the turns", async () => {
  const home = tempDir('keymate-conv-');
  const s = await ConversationStore.open(home, () => 0);
  const id = s.current.id;
  for (const t of [turn('user', 'a', 'p1'), turn('assistant', ' A', 'p1'), turn('user', 'tap', 'p2'), turn('assistant', ' T', 'p2')]) await s.append(id, t);
  await s.setContextFrom(id, 4, null);
  assert.equal(await s.withdraw(id, 'p2'), true);
  assert.equal(await s.withdraw(id, 'p2'), false);
  const back = await ConversationStore.open(home, () => 0);
  assert.deepEqual(back.current.turns.map((t) => t.text), ['a', ' A']);
  assert.equal(back.current.context_from, 2);
});

test('held writes start when released, in order; the turns are in memory at once; a second release does nothing', async () => {
  const home = tempDir('keymate-conv-');
  const s = await ConversationStore.open(home, () => 0);
  const id = s.current.id;
  const file = path.join(home, 'conversations', `${id}.json`);
  const onDisk = (): string[] => (fs.existsSync(file) ? (JSON.parse(fs.readFileSync(file, 'utf8')) as { data: { turns: Turn[] } }).data.turns.map((t) => t.text) : []);
  const before = onDisk();

  const release = s.holdWrites();
  let acknowledged = false;
  const first = s.append(id, turn('user', 'held', 'p1')).then((i) => {
    acknowledged = true;
    return i;
  });
  const second = s.append(id, turn('assistant', ' too', 'p1'));
  assert.deepEqual(s.current.turns.map((t) => t.text), ['held', ' too'], 'in memory at once');
  await new Promise((resolve) => setTimeout(resolve, 50));
  assert.equal(acknowledged, false, 'not acknowledged before it is written');
  assert.deepEqual(onDisk(), before, 'nothing written while held');

  release();
  release();
  assert.deepEqual([await first, await second], [0, 1]);
  assert.deepEqual(onDisk(), ['held', ' too']);
  // Released: a save goes at once again.
  await s.append(id, turn('user', 'free', 'p2'));
  assert.deepEqual(onDisk(), ['held', ' too', 'free']);
});

test('a damaged conversation file is set aside and named; the others load', async () => {
  const home = tempDir('keymate-conv-');
  const s = await ConversationStore.open(home, () => 0);
  await s.append(s.current.id, turn('user', 'kept', 'p1'));
  const other = await s.startNew(5);
  await s.append(other.id, turn('user', 'lost?', 'p2'));
  const file = path.join(home, 'conversations', `${other.id}.json`);
  fs.writeFileSync(file, '{"format": "keymate-conversation", "version": 1, "data": {"id": ');
  const back = await ConversationStore.open(home, () => 0);
  assert.equal(back.problems.length, 1);
  assert.match(back.problems[0]!, new RegExp(`conversation ${other.id}: .*kept as`));
  assert.ok(fs.readdirSync(path.join(home, 'conversations')).some((n) => n.startsWith(`${other.id}.json.corrupt-`)), 'the bytes are kept aside');
  assert.deepEqual(back.list().map((c) => c.title), ['kept']);
  assert.equal(back.current.title, 'kept', 'the current one was the damaged one: the newest that loads is current');
});
