// Characters in the host: a V2 card imported from a file, a conversation
// with it (the character greets first, its other greetings are the
// greeting's versions, its persona and sampling are the conversation's), and
// the card exported back byte for byte. Template code in a card is text.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';

import { readCardText } from '../../../electron/host/characters/card-file';
import { tempDir } from '../../support/repo';
import { startHost } from './support';

// Written as a person would, with its own spacing and key order: the export must give these bytes back.
const CARD = `{
  "spec": "chara_card_v2", "spec_version": "2.0",
  "data": {
    "name": "Pip", "description": "{{char}} is a small robot who helps {{user}}. {% if x %}{{ 7*7 }}{% endif %}",
    "personality": "cheerful", "scenario": "a workshop", "first_mes": "Hello, {{user}}!",
    "mes_example": "", "creator_notes": "NOT FOR THE PROMPT", "system_prompt": "", "post_history_instructions": "",
    "alternate_greetings": ["Beep. Hi {{user}}."], "tags": ["robot"], "creator": "me", "character_version": "1",
    "extensions": { "keymate": { "sampling": { "temperature": 0 } }, "other_tool": { "x": [1, 2] } }
  }
}
`;

test('a character card: imported, greeted with, continued, exported byte for byte', async (t) => {
  const { host, next } = await startHost(t);
  const h = host.handlers;
  const file = path.join(tempDir('keymate-card-'), 'pip.json');
  fs.writeFileSync(file, CARD);
  const pip = await h['characters.import']({ path: file }, undefined);
  assert.deepEqual({ name: pip.name, greeting: pip.greeting, tags: pip.tags, has_image: pip.has_image }, { name: 'Pip', greeting: 'Hello, User!', tags: ['robot'], has_image: false });
  assert.deepEqual((await h['characters.list']({}, undefined)).characters.map((c) => c.id), [pip.id]);

  const c = await h['conversation.new']({ character_id: pip.id }, undefined);
  assert.equal(c.character?.name, 'Pip');
  assert.match(c.character?.persona ?? '', /Pip is a small robot who helps User\. \{% if x %\}\{\{ 7\*7 \}\}\{% endif %\}/, 'template code is text');
  assert.doesNotMatch(c.character?.persona ?? '', /NOT FOR THE PROMPT/);
  assert.deepEqual(c.turns.map((x) => [x.role, x.text]), [['assistant', 'Hello, User!']]);
  assert.deepEqual(c.turns[0]!.versions?.map((v) => v.text), ['Hello, User!', 'Beep. Hi User.']);
  const chosen = await h['conversation.choose']({ version: 1 }, undefined);
  assert.equal(chosen.turns[0]!.text, 'Beep. Hi User.');

  await h.generate({ prompt: 'What are you building?' }, undefined);
  const done = await next('reply.done');
  assert.ok(done.completion.length > 0);
  await next('conversation.turn', (e) => e.index === 2);
  assert.deepEqual(host.state().conversation.turns.map((x) => x.role), ['assistant', 'user', 'assistant']);

  const json = await h['characters.export']({ id: pip.id, format: 'json' }, undefined);
  assert.equal(Buffer.from(json.data_base64, 'base64').toString('utf8'), CARD, 'the JSON export is the imported file');
  const png = Buffer.from((await h['characters.export']({ id: pip.id, format: 'png' }, undefined)).data_base64, 'base64');
  assert.equal(readCardText(png, 'pip.png').text, CARD, 'the PNG carries the same JSON');

  // A PNG card imports the same way; its picture comes back in its export.
  const pngFile = path.join(path.dirname(file), 'pip.png');
  fs.writeFileSync(pngFile, png);
  const again = await h['characters.import']({ path: pngFile }, undefined);
  assert.equal(again.has_image, true);
  const back = Buffer.from((await h['characters.export']({ id: again.id, format: 'png' }, undefined)).data_base64, 'base64');
  assert.ok(back.equals(png), 'the PNG export is the imported file');

  // Bad cards: one line each, nothing kept.
  const bad = path.join(path.dirname(file), 'bad.json');
  fs.writeFileSync(bad, '{"spec": "chara_card_v2", "spec_version": "2.0", "data": {}}');
  await assert.rejects(Promise.resolve().then(() => h['characters.import']({ path: bad }, undefined)), (e: Error) => /^character card: data\.name/.test(e.message) && !e.message.includes('\n'));
  const big = path.join(path.dirname(file), 'big.json');
  fs.writeFileSync(big, Buffer.alloc(10_000_001, 0x20));
  await assert.rejects(Promise.resolve().then(() => h['characters.import']({ path: big }, undefined)), /^CharacterCardError: character card: the file is 10\.1 MB; the limit is 10 MB$/);
  assert.equal((await h['characters.list']({}, undefined)).characters.length, 2);
  await h['characters.delete']({ id: again.id }, undefined);
  assert.equal((await h['characters.list']({}, undefined)).characters.length, 1);
});
