// Character cards in and out: V2 and V3 JSON and PNG round trips that lose
// nothing (unknown fields and key order included), PNGs made elsewhere with
// their chunks in another order, every way a file can be unusable as one
// line, and the persona built from a card as plain text, never a template.
import * as assert from 'node:assert/strict';
import { test } from 'node:test';
import { inflateSync } from 'node:zlib';

import { type Card, Character, type CharacterCardV2, type CharacterCardV3, characterFromCard } from '../../../../common/contract/character';
import { CARD_FILE_LIMIT_BYTES, crc32, readCard, writeCardJson, writeCardPng } from '../../../../electron/host/characters/card-file';

// Written by hand after the specs' field lists, with what real cards carry:
// tool extensions with nested objects, a lorebook, fields no spec names.
const v2: CharacterCardV2 = {
  spec: 'chara_card_v2',
  spec_version: '2.0',
  data: {
    name: 'Seraphina',
    description: '{{char}} is a guardian of the Eldergrove. She greets {{user}} warmly. 森の守護者 🌿',
    personality: 'kind, protective, a little wry',
    scenario: '{{user}} wakes in a glade after a wolf attack.',
    first_mes: '*{{char}} kneels beside you.* Rest, {{user}}. You are safe here.',
    mes_example: '<START>\n{{user}}: Who are you?\n{{char}}: Seraphina. I keep this forest.',
    creator_notes: 'Tested with 13B models. Do not show this to the model.',
    system_prompt: '',
    post_history_instructions: 'Stay in character.',
    alternate_greetings: ['*The glade is quiet.* Awake at last, {{user}}?', 'Ça va? Привет! 你好'],
    character_book: {
      name: 'Eldergrove',
      scan_depth: 4,
      token_budget: 512,
      recursive_scanning: false,
      extensions: {},
      entries: [
        { keys: ['wolf', 'wolves'], content: 'Shadow wolves hunt at dusk.', extensions: { depth: 4 }, enabled: true, insertion_order: 100, position: 'before_char' },
      ],
    },
    tags: ['fantasy', 'female', 'guardian'],
    creator: 'someone@example',
    character_version: '1.2',
    extensions: {
      talkativeness: '0.5',
      fav: false,
      world: 'Eldergrove',
      depth_prompt: { prompt: 'Seraphina is gentle.', depth: 4, role: 'system' },
      keymate: { sampling: { temperature: 0.8, top_p: 0.9 } },
    },
    // A field from some other tool: kept, not refused.
    avatar_crop: { x: 0, y: 12, size: [512, 512] },
  },
  // And one at the top.
  exported_by: 'SomeTool 1.10.4',
};

const v3: CharacterCardV3 = {
  spec: 'chara_card_v3',
  spec_version: '3.0',
  data: {
    name: 'Captain Iri Vance',
    description: '{{char}} commands the salvage ship *Lark*. {{user}} is her new engineer.',
    tags: ['sci-fi', 'captain'],
    creator: 'Ünïcødé Ⓒreator',
    character_version: '3',
    mes_example: '',
    extensions: { 'risuai': { utilityBot: false, backgroundHTML: '<div>{{char}}</div>' }, 'x-empty': {} },
    system_prompt: 'You are {{char}}. {{original}}',
    post_history_instructions: '',
    first_mes: 'Welcome aboard, {{user}}. I am {{char}}.',
    alternate_greetings: [],
    personality: 'blunt',
    scenario: '',
    creator_notes: 'Creator notes are for people only.',
    character_book: { extensions: {}, entries: [] },
    assets: [{ type: 'icon', uri: 'ccdefault:', name: 'main', ext: 'png' }],
    nickname: 'Iri',
    creator_notes_multilingual: { en: 'For people.', ja: '人のためのメモ' },
    source: ['https://example.com/cards/iri'],
    group_only_greetings: ['Crew, listen up.'],
    creation_date: 1717000000,
    modification_date: 1718000000,
    some_future_field: [1, { two: 2 }],
  },
};

const json = (card: unknown): Buffer => Buffer.from(JSON.stringify(card));

/** A PNG chunk, built here independently of the code under test (but with its CRC-32, which has its own check). */
function chunk(type: string, data: Buffer | string): Buffer {
  const body = Buffer.concat([Buffer.from(type, 'latin1'), Buffer.from(data)]);
  const out = Buffer.alloc(body.length + 8);
  out.writeUInt32BE(body.length - 4, 0);
  body.copy(out, 4);
  out.writeUInt32BE(crc32(body), body.length + 4);
  return out;
}

const SIGNATURE = Buffer.from('89504e470d0a1a0a', 'hex');
const text = (keyword: string, value: string): Buffer => chunk('tEXt', `${keyword}\0${value}`);
const b64 = (card: unknown): string => Buffer.from(JSON.stringify(card), 'utf8').toString('base64');

/** The chunks of a PNG, as [type, data]. */
function chunksOf(png: Buffer): [string, Buffer][] {
  const out: [string, Buffer][] = [];
  for (let at = 8; at < png.length; ) {
    const length = png.readUInt32BE(at);
    out.push([png.toString('latin1', at + 4, at + 8), png.subarray(at + 8, at + 8 + length)]);
    at += 12 + length;
  }
  return out;
}

/** A tiny picture with no card: the pixel data of another 1x1 PNG. */
function plainPng(...extra: Buffer[]): Buffer {
  const [, idat] = chunksOf(writeCardPng(v2)).find(([t]) => t === 'IDAT') ?? [];
  const header = Buffer.from('00000001000000010806000000', 'hex');
  return Buffer.concat([SIGNATURE, chunk('IHDR', header), ...extra, chunk('IDAT', idat ?? Buffer.alloc(0)), chunk('IEND', '')]);
}

test('CRC-32 gives the standard check value', () => {
  assert.equal(crc32(Buffer.from('123456789')), 0xcbf43926);
  assert.equal(crc32(Buffer.alloc(0)), 0);
});

for (const card of [v2, v3]) {
  test(`${card.spec} JSON: read, then written, gives the same JSON, key order and unknown fields kept`, () => {
    const read = readCard(json(card), 'card.json');
    assert.deepEqual(read, card);
    const written = writeCardJson(read);
    assert.deepEqual(JSON.parse(written), card);
    assert.equal(written, `${JSON.stringify(card, null, 2)}\n`);
    // Pretty-printed or not, with a byte-order mark or not: the same card.
    assert.deepEqual(readCard(Buffer.from(`\ufeff${written}`), 'card.json'), card);
  });

  test(`${card.spec} PNG: written into a blank picture, read back the same; read, write, read again the same`, () => {
    const png = writeCardPng(card);
    const read = readCard(png, 'card.png');
    assert.deepEqual(read, card);
    assert.equal(writeCardJson(read), writeCardJson(card));
    const again = writeCardPng(read, png);
    assert.deepEqual(again, png);
    assert.deepEqual(readCard(again, 'again.png'), card);
    // The picture's name does not matter: the signature says PNG.
    assert.deepEqual(readCard(png, 'card.json'), card);
  });
}

test('the blank picture is a valid 1x1 RGBA PNG, and a V3 card is also written as V2 for older tools', () => {
  const png = writeCardPng(v3);
  const chunks = chunksOf(png);
  assert.deepEqual(
    chunks.map(([t]) => t),
    ['IHDR', 'IDAT', 'tEXt', 'tEXt', 'IEND'],
  );
  const [, ihdr] = chunks[0] ?? [];
  assert.deepEqual(ihdr, Buffer.from('00000001000000010806000000', 'hex'));
  const [, idat] = chunks[1] ?? [];
  assert.deepEqual(inflateSync(idat ?? Buffer.alloc(0)), Buffer.from([0, 0, 0, 0, 0]));
  const texts = chunks.filter(([t]) => t === 'tEXt').map(([, d]) => d.toString('latin1').split('\0'));
  assert.deepEqual(
    texts.map(([k]) => k),
    ['chara', 'ccv3'],
  );
  const decoded = texts.map(([, v]) => JSON.parse(Buffer.from(v ?? '', 'base64').toString('utf8')) as Card);
  assert.deepEqual(decoded[0], { ...v3, spec: 'chara_card_v2', spec_version: '2.0' });
  assert.deepEqual(decoded[1], v3);
  // A V2 card is written as V2 alone.
  assert.deepEqual(
    chunksOf(writeCardPng(v2)).map(([t, d]) => (t === 'tEXt' ? d.toString('latin1').split('\0')[0] : t)),
    ['IHDR', 'IDAT', 'chara', 'IEND'],
  );
});

test("a PNG from elsewhere: card chunks before the pixels, ccv3 preferred to chara, the picture's other chunks kept", () => {
  const comment = text('Comment', 'made elsewhere');
  const other: Card = { ...v2, data: { ...v2.data, name: 'Someone else' } };
  const png = plainPng(text('ccv3', b64(v3)), comment, text('chara', b64(other)));
  assert.deepEqual(readCard(png, 'x.png'), v3);
  // chara alone: read as V2.
  assert.deepEqual(readCard(plainPng(comment, text('chara', b64(other))), 'x.png'), other);

  // Writing replaces the old card chunks (all of them) and keeps the rest byte for byte.
  const rewritten = writeCardPng(v2, png);
  const chunks = chunksOf(rewritten);
  assert.deepEqual(
    chunks.map(([t, d]) => (t === 'tEXt' ? d.toString('latin1').split('\0')[0] : t)),
    ['IHDR', 'Comment', 'IDAT', 'chara', 'IEND'],
  );
  assert.ok(rewritten.includes(comment));
  assert.deepEqual(readCard(rewritten, 'x.png'), v2);
});

test('a card exactly at the size limit is read; one byte over is refused in one line', () => {
  const base = Buffer.from(JSON.stringify(v2));
  const padded = (size: number): Buffer => Buffer.concat([base, Buffer.alloc(size - base.length, ' ')]);
  assert.deepEqual(readCard(padded(CARD_FILE_LIMIT_BYTES), 'big.json'), v2);
  assert.throws(
    () => readCard(padded(CARD_FILE_LIMIT_BYTES + 1), 'big.json'),
    { name: 'CharacterCardError', message: 'character card: the file is 10.1 MB; the limit is 10 MB' },
  );
  assert.throws(
    () => readCard(Buffer.alloc(10_500_000), 'big.png'),
    { message: 'character card: the file is 10.5 MB; the limit is 10 MB' },
  );
});

/** A V2 card with one field of `data` changed (undefined = removed). */
function v2With(field: string, value: unknown): unknown {
  const data: Record<string, unknown> = { ...v2.data, [field]: value };
  if (value === undefined) delete data[field];
  return { ...v2, data };
}

const goodPng = writeCardPng(v3);
/** goodPng with one byte inverted at `at` (negative: from the end). */
function flipped(at: number): Buffer {
  const copy = Buffer.from(goodPng);
  const i = at < 0 ? copy.length + at : at;
  copy[i] = (copy[i] ?? 0) ^ 0xff;
  return copy;
}
const ccv3At = goodPng.indexOf('ccv3');

const unusable: [string, Buffer, string, RegExp][] = [
  ['malformed JSON', Buffer.from('{"spec": "chara_card_v2", "data": {'), 'a.json', /^character card: the file is not valid JSON \(/],
  ['not UTF-8', Buffer.from([0x7b, 0xff, 0xfe, 0x7d]), 'a.json', /the file is not valid UTF-8 text/],
  ['a JSON array', Buffer.from('[]'), 'a.json', /expected a JSON object, got array/],
  ['a V1 card (no spec)', json({ name: 'Old', description: '', first_mes: '' }), 'a.json', /^character card: spec: missing \(a V1 card\?\); .*"chara_card_v2"/],
  ['another spec', json({ ...v2, spec: 'chara_card_v1' }), 'a.json', /^character card: spec: "chara_card_v1"; /],
  ['a spec with a line break', json({ ...v2, spec: 'chara\ncard' }), 'a.json', /spec: "chara\\x0acard"/],
  ['the wrong spec_version', json({ ...v2, spec_version: '3.0' }), 'a.json', /^character card: spec_version: expected "2\.0"$/],
  ['no data', json({ spec: 'chara_card_v3', spec_version: '3.0' }), 'a.json', /^character card: data: expected an object, but it is missing$/],
  ['no name', json(v2With('name', undefined)), 'a.json', /^character card: data\.name: expected a string, but it is missing$/],
  ['a name that is a number', json(v2With('name', 42)), 'a.json', /^character card: data\.name: expected a string, got number$/],
  ['an empty name', json(v2With('name', '')), 'a.json', /^character card: data\.name: must not be empty$/],
  ['a greeting that is not text', json(v2With('alternate_greetings', ['hi', null])), 'a.json', /data\.alternate_greetings\[1\]: expected a string, got null$/],
  ['extensions as an array', json(v2With('extensions', [])), 'a.json', /data\.extensions: expected an object, got array$/],
  ['V3 without group_only_greetings', json({ ...v3, data: { ...v3.data, group_only_greetings: undefined } }), 'a.json', /data\.group_only_greetings: expected an array, but it is missing$/],
  ['a .png that is JSON', json(v2), 'a.png', /^character card: not a PNG file/],
  ['a truncated PNG', goodPng.subarray(0, goodPng.length - 20), 'a.png', /^character card: the PNG is truncated: its tEXt chunk at byte \d+ needs \d+ bytes, past the end of the file$/],
  ['a PNG cut before IEND', goodPng.subarray(0, goodPng.length - 12), 'a.png', /^character card: the PNG is truncated: it ends at byte \d+, before its IEND chunk$/],
  ['a PNG with a damaged card chunk', flipped(ccv3At + 10), 'a.png', /^character card: the PNG is damaged: its tEXt chunk at byte \d+ fails its CRC check$/],
  ['a PNG with a damaged CRC', flipped(-13), 'a.png', /fails its CRC check$/],
  ['a PNG with a damaged length', flipped(33), 'a.png', /^character card: the PNG is truncated: its IDAT chunk/],
  ['a PNG with no card', plainPng(text('Comment', 'hello')), 'a.png', /^character card: the PNG carries no character card \(no 'ccv3' or 'chara' text chunk\)$/],
  ['bad base64', plainPng(text('ccv3', 'eyJzcGVj!!not base64')), 'a.png', /^character card: the PNG's 'ccv3' chunk is not valid base64$/],
  ['base64 of something else', plainPng(text('chara', Buffer.from('<html>').toString('base64'))), 'a.png', /^character card: the PNG's 'chara' chunk is not valid JSON \(/],
  ['base64 of a bad card', plainPng(text('chara', b64(v2With('tags', 'fantasy')))), 'a.png', /^character card: data\.tags: expected an array, got string$/],
];

for (const [what, bytes, name, expected] of unusable) {
  test(`refused in one line: ${what}`, () => {
    assert.throws(
      () => readCard(bytes, name),
      (e: Error) => {
        assert.equal(e.name, 'CharacterCardError');
        assert.ok(!e.message.includes('\n'), e.message);
        assert.match(e.message, expected);
        return true;
      },
    );
  });
}

test('writing into a picture that is not a whole PNG is refused in one line too', () => {
  assert.throws(() => writeCardPng(v2, goodPng.subarray(0, 40)), /^CharacterCardError: character card: the PNG is truncated/);
  assert.throws(() => writeCardPng(v2, Buffer.from('GIF89a')), /not a PNG file/);
});

test('the persona is the card as plain text: macros substituted, template code left as it is, creator notes left out', () => {
  const card: Card = {
    ...v2,
    data: {
      ...v2.data,
      name: 'Ada $& {{user}}',
      description: 'Hi {{char}} and {{USER}}. {% if user %}secret{% endif %} {{ 7*7 }} ${1+1} {{original}} $1',
      personality: '{{#each x}}{{this}}{{/each}}',
      scenario: '{% for i in range(3) %}{{ i }}{% endfor %}',
      system_prompt: 'Be {{char}}. {{original}}',
      creator_notes: 'CREATOR NOTE: not for the model',
      first_mes: '{{Char}} waves at {{user}}.',
      alternate_greetings: ['{{char}}? {{ 7*7 }}'],
    },
  };
  const c = characterFromCard(card, { id: 'ada', user: 'Sam', original: 'Global prompt' });
  assert.equal(
    c.persona,
    [
      'Be Ada $& {{user}}. Global prompt',
      'Hi Ada $& {{user}} and Sam. {% if user %}secret{% endif %} {{ 7*7 }} ${1+1} {{original}} $1',
      "Ada $& {{user}}'s personality: {{#each x}}{{this}}{{/each}}",
      'Scenario: {% for i in range(3) %}{{ i }}{% endfor %}',
      `Example dialogue:\n<START>\nSam: Who are you?\nAda $& {{user}}: Seraphina. I keep this forest.`,
    ].join('\n\n'),
  );
  // {{original}} is put in only where the spec puts it, the system prompt.
  assert.ok(!c.persona.includes('49'));
  assert.ok(!c.persona.includes('CREATOR NOTE'));
  assert.equal(c.greeting, 'Ada $& {{user}} waves at Sam.');
  assert.deepEqual(c.alternate_greetings, ['Ada $& {{user}}? {{ 7*7 }}']);
  assert.equal(c.card, card);
});

test('a character from a V3 card: the nickname is {{char}}, empty sections are left out, the sampling comes from extensions.keymate', () => {
  const c = characterFromCard(readCard(json(v3), 'iri.json'), { id: 'iri' });
  assert.equal(c.name, 'Captain Iri Vance');
  assert.equal(c.persona, "You are Iri.\n\nIri commands the salvage ship *Lark*. User is her new engineer.\n\nIri's personality: blunt");
  assert.equal(c.greeting, 'Welcome aboard, User. I am Iri.');
  assert.deepEqual(c.sampling, {});
  assert.ok(!c.persona.includes('people'));
  assert.deepEqual(Character.parse(c), c);

  const s = characterFromCard(readCard(json(v2), 'seraphina.json'), { id: 'seraphina' });
  assert.deepEqual(s.sampling, { temperature: 0.8, top_p: 0.9 });
  assert.deepEqual(s.alternate_greetings, ['*The glade is quiet.* Awake at last, User?', 'Ça va? Привет! 你好']);
  assert.ok(!s.persona.includes('13B'));
  // Sampling out of range is ignored, not half-used.
  const wild = characterFromCard({ ...v2, data: { ...v2.data, extensions: { keymate: { sampling: { temperature: 9 } } } } }, { id: 'w' });
  assert.deepEqual(wild.sampling, {});
});
