// keymate generate against the real stories260K model: the --json object
// (DESIGN.md's fields and types), greedy determinism, the streamed forms, and
// Ctrl-C.
import * as assert from 'node:assert/strict';
import { test } from 'node:test';

import { keymate, keymateJson, spawnKeymate } from '../../../support/cli';
import { stories } from '../../../support/repo';

const greedy = (prompt: string, extra: string[] = []): string[] => [
  'generate', '--model', stories(), '--prompt', prompt, '--temperature', '0', '--threads', '1', ...extra,
];

test('--json prints one object with exactly the fields DESIGN.md lists', () => {
  const r = keymateJson(greedy('Once upon a time', ['--max-tokens', '24']));
  assert.deepEqual(Object.keys(r).sort(), ['backend', 'completion', 'decode_tok_s', 'kv', 'prompt', 'prompt_tokens', 'tokens', 'ttft_ms', 'weights'].sort());
  assert.equal(r['prompt'], 'Once upon a time');
  assert.equal(typeof r['completion'], 'string');
  assert.ok(!(r['completion'] as string).startsWith('Once upon a time'), 'completion excludes the prompt');
  assert.equal(r['tokens'], 24);
  assert.ok(Number.isInteger(r['prompt_tokens']) && (r['prompt_tokens'] as number) >= 4);
  assert.ok(typeof r['ttft_ms'] === 'number' && r['ttft_ms'] > 0);
  assert.ok(typeof r['decode_tok_s'] === 'number' && r['decode_tok_s'] > 0);
  assert.equal(r['backend'], 'cpu');
  assert.equal(r['weights'], 'native');
  assert.equal(r['kv'], 'f16');
});

test('greedy decoding continues the story as llama.cpp does', () => {
  // ../shared/models/README.md: llama.cpp's greedy continuation of this prompt.
  const r = keymateJson(greedy('Once upon a time', ['--max-tokens', '48']));
  const expected = ', there was a little girl named Lily. She loved to play outside in the park. One day, she saw a big, red ball.';
  assert.ok((r['completion'] as string).startsWith(expected), String(r['completion']));
});

test('temperature 0 is deterministic, run after run', () => {
  const a = keymateJson(greedy('The cat sat', ['--max-tokens', '32']));
  const b = keymateJson(greedy('The cat sat', ['--max-tokens', '32']));
  assert.equal(a['completion'], b['completion']);
  assert.equal(a['tokens'], b['tokens']);
});

test('the same seed samples the same text; the seed matters', () => {
  const run = (seed: string) => keymateJson(['generate', '--model', stories(), '--prompt', 'One day', '--temperature', '1', '--seed', seed, '--max-tokens', '40', '--threads', '1']);
  const a = run('7');
  assert.equal(run('7')['completion'], a['completion']);
  const others = ['8', '9', '10'].map((s) => run(s)['completion']);
  assert.ok(others.some((c) => c !== a['completion']), 'three other seeds all gave the same text');
});

test('without --json the text streams to stdout and the summary goes to stderr', () => {
  const json = keymateJson(greedy('Once upon a time', ['--max-tokens', '16']));
  const r = keymate(greedy('Once upon a time', ['--max-tokens', '16']));
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout, `${String(json['completion'])}\n`);
  assert.match(r.stderr, /^\[16 tokens \(length\), prompt \d+ tokens, first token [\d.]+ ms, [\d.]+ tok\/s, cpu\]\n$/);
});

test('--json --stream prints one line per token, then the result object', () => {
  const r = keymate([...greedy('Once upon a time', ['--max-tokens', '12']), '--json', '--stream']);
  assert.equal(r.status, 0, r.stderr);
  const lines = r.stdout.trimEnd().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
  assert.equal(lines.length, 13);
  const result = lines.at(-1) ?? {};
  const tokens = lines.slice(0, -1);
  tokens.forEach((t, i) => {
    assert.deepEqual(Object.keys(t).sort(), ['index', 't_ms', 'text', 'token']);
    assert.equal(t['index'], i);
  });
  assert.equal(tokens.map((t) => t['text']).join(''), result['completion']);
});

test('the first Ctrl-C stops generation cleanly and prints what was produced', async () => {
  // Sampling at temperature 1 with a huge top-k makes long stories; the signal
  // is sent as soon as the first token is out, far before max-tokens.
  const child = spawnKeymate(['generate', '--model', stories(), '--prompt', 'Once upon a time', '--max-tokens', '480', '--temperature', '1', '--seed', '3', '--top-k', '0', '--top-p', '1', '--threads', '1', '--json', '--stream']);
  let stdout = '';
  let stderr = '';
  let sent = false;
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  child.stdout.on('data', (d: Buffer) => {
    stdout += d.toString();
    if (!sent && stdout.includes('\n')) {
      sent = true;
      child.kill('SIGINT');
    }
  });
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  assert.equal(code, 130, stderr);
  const lines = stdout.trimEnd().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
  const result = lines.at(-1) ?? {};
  assert.ok(typeof result['completion'] === 'string', 'the result object is printed');
  assert.ok((result['tokens'] as number) < 480, 'generation stopped early');
  assert.equal(lines.length - 1, result['tokens']);
});
