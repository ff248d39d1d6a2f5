// The OpenAI API's request bodies as Keymate reads them: what a client may
// send becomes one CompletionRequest, and every wrong type, range or shape
// is refused with one line that names the field (the error body's `param`).
import * as assert from 'node:assert/strict';
import { test } from 'node:test';

import { InvalidRequest, parseChat, parseText } from '../../common/openai';

const user = (content: unknown) => ({ role: 'user', content });
const chat = (extra: Record<string, unknown> = {}) => ({ model: 'm', messages: [user('Hi')], ...extra });

/** The refusal of `body`: its message and param. */
function refusal(parse: (b: unknown) => unknown, body: unknown): { message: string; param: string | null; code: string | null } {
  try {
    parse(body);
  } catch (e) {
    assert.ok(e instanceof InvalidRequest, `an InvalidRequest, got ${String(e)}`);
    assert.doesNotMatch(e.message, /\n/, 'one line');
    return { message: e.message, param: e.param, code: e.code };
  }
  assert.fail(`accepted: ${JSON.stringify(body)}`);
}

test('a chat request: the fields as the engine takes them, unset ones null', () => {
  const r = parseChat({
    model: 'stories260K',
    messages: [
      { role: 'system', content: 'Be brief.' },
      { role: 'developer', content: 'Say hi.' },
      { role: 'user', content: [{ type: 'text', text: 'Hel' }, { type: 'text', text: 'lo' }] },
      { role: 'assistant', content: null },
      user('Again'),
    ],
    max_tokens: 5,
    temperature: 0,
    top_p: 0.5,
    seed: 7,
    stop: '\n',
    stream: true,
    stream_options: { include_usage: true },
    user: 'someone',
  });
  assert.deepEqual(r, {
    model: 'stories260K',
    input: {
      kind: 'chat',
      messages: [
        { role: 'system', content: 'Be brief.' },
        { role: 'system', content: 'Say hi.' },
        { role: 'user', content: 'Hello' },
        { role: 'assistant', content: '' },
        { role: 'user', content: 'Again' },
      ],
    },
    maxTokens: 5,
    temperature: 0,
    topP: 0.5,
    topK: null,
    seed: 7,
    stop: ['\n'],
    stream: true,
    includeUsage: true,
  });
  const plain = parseChat(chat());
  assert.equal(plain.maxTokens, null);
  assert.equal(plain.temperature, null);
  assert.deepEqual(plain.stop, []);
  assert.equal(plain.stream, false);
  // Null is "not given", as OpenAI's clients in other languages send it.
  assert.equal(parseChat(chat({ max_tokens: null, stop: null, seed: null, stream: null })).maxTokens, null);
});

test('max_completion_tokens is max_tokens by its newer name, and wins over it', () => {
  assert.equal(parseChat(chat({ max_completion_tokens: 9 })).maxTokens, 9);
  assert.equal(parseChat(chat({ max_tokens: 3, max_completion_tokens: 9 })).maxTokens, 9);
});

test('wrong types, ranges and shapes: one line naming the field', () => {
  const cases: [unknown, RegExp, string | null][] = [
    [chat({ max_tokens: -1 }), /^max_tokens: too small \(minimum 1\)$/, 'max_tokens'],
    [chat({ max_tokens: 0 }), /^max_tokens: too small/, 'max_tokens'],
    [chat({ max_tokens: 2.5 }), /^max_tokens: expected an integer, got 2\.5$/, 'max_tokens'],
    [chat({ max_tokens: '5' }), /^max_tokens: expected number, got string$/, 'max_tokens'],
    [chat({ max_completion_tokens: -3 }), /^max_completion_tokens: too small/, 'max_completion_tokens'],
    [chat({ temperature: 3 }), /^temperature: too big \(maximum 2\)$/, 'temperature'],
    [chat({ temperature: 'hot' }), /^temperature: expected number, got string$/, 'temperature'],
    [chat({ top_p: 1.5 }), /^top_p: too big/, 'top_p'],
    [chat({ seed: -1 }), /^seed: too small/, 'seed'],
    [chat({ stop: 5 }), /^stop: expected a string or an array of strings$/, 'stop'],
    [chat({ stop: ['a', 'b', 'c', 'd', 'e'] }), /^stop: /, 'stop'],
    [chat({ stream: 'yes' }), /^stream: expected boolean, got string$/, 'stream'],
    [{ messages: [user('x')] }, /^model: expected string, missing$/, 'model'],
    [{ model: 1, messages: [user('x')] }, /^model: expected string, got number$/, 'model'],
    [{ model: 'm' }, /^messages: expected array, missing$/, 'messages'],
    [{ model: 'm', messages: [] }, /^messages: must not be empty$/, 'messages'],
    [{ model: 'm', messages: 'Hi' }, /^messages: expected array, got string$/, 'messages'],
    [{ model: 'm', messages: [{ role: 'robot', content: 'x' }] }, /^messages\[0\]\.role: expected one of /, 'messages[0].role'],
    [{ model: 'm', messages: [user(42)] }, /^messages\[0\]\.content: expected a string or an array of content parts$/, 'messages[0].content'],
    [{ model: 'm', messages: [{ role: 'assistant', content: 'x' }] }, /^messages: the last message must be the user's/, 'messages'],
    [{ model: 'm', messages: [{ role: 'system', content: 'x' }] }, /^messages: the last message must be the user's/, 'messages'],
    [{ model: 'm', messages: [user([{ type: 'image_url', image_url: { url: 'x' } }])] }, /^messages\[0\]\.content\[0\]\.type: "image_url" is not supported/, 'messages[0].content[0].type'],
    [{ model: 'm', messages: [{ role: 'tool', content: 'x' }, user('y')] }, /^messages\[0\]\.role: "tool" is not supported/, 'messages[0].role'],
    [chat({ n: 2 }), /^n: only 1 is supported/, 'n'],
    [chat({ logprobs: true }), /^logprobs: not supported$/, 'logprobs'],
    [chat({ tools: [{ type: 'function' }] }), /^tools: not supported/, 'tools'],
    [chat({ response_format: { type: 'json_object' } }), /^response_format: "json_object" is not supported/, 'response_format'],
    [[1, 2], /^the body must be a JSON object, got an array$/, null],
    [null, /^the body must be a JSON object, got null$/, null],
    ['text', /^the body must be a JSON object, got string$/, null],
  ];
  for (const [body, message, param] of cases) {
    const r = refusal(parseChat, body);
    assert.match(r.message, message, JSON.stringify(body));
    assert.equal(r.param, param, JSON.stringify(body));
  }
  assert.equal(refusal(parseChat, chat({ n: 2 })).code, 'unsupported_parameter');
});

test('a text completion: a string, or an array of one; token arrays and the rest are refused', () => {
  const r = parseText({ model: 'm', prompt: 'Once upon a time', max_tokens: 4, stop: ['.', '!'] });
  assert.deepEqual(r.input, { kind: 'text', prompt: 'Once upon a time' });
  assert.deepEqual(r.stop, ['.', '!']);
  assert.deepEqual(parseText({ model: 'm', prompt: ['One'] }).input, { kind: 'text', prompt: 'One' });
  assert.equal(parseText({ model: 'm', prompt: '' }).input.kind, 'text');
  assert.match(refusal(parseText, { model: 'm', prompt: ['a', 'b'] }).message, /^prompt: one prompt per request \(got 2\)$/);
  assert.match(refusal(parseText, { model: 'm', prompt: [1, 2, 3] }).message, /^prompt: expected a string or an array of one string \(token arrays are not supported\)$/);
  assert.match(refusal(parseText, { model: 'm' }).message, /^prompt: /);
  assert.match(refusal(parseText, { model: 'm', prompt: 'x', echo: true }).message, /^echo: not supported$/);
  assert.match(refusal(parseText, { model: 'm', prompt: 'x', suffix: 'y' }).message, /^suffix: not supported/);
  assert.match(refusal(parseText, { model: 'm', prompt: 'x', best_of: 3 }).message, /^best_of: only 1/);
  assert.match(refusal(parseText, { model: 'm', prompt: 'x', max_tokens: -5 }).message, /^max_tokens: too small/);
});

test("a client's text in a message is shown safely: one line, cut", () => {
  const r = refusal(parseChat, { model: 'm', messages: [user([{ type: 'x\n'.repeat(100) }])] });
  assert.ok(r.message.length < 200);
});
