// A conversation's turns, timed as the app runs them (a Host, no window):
// each press's time to first token with its prompt, how much of it came from
// the engine's cache and how many tokens it prefilled; then a swipe (the last
// reply written again); then the host stopped and started again on the same
// data folder and one more press. A conversation keeps the reply fast only
// if a later turn costs about what the first did (only its new tokens are
// prefilled), a swipe costs what a fresh turn does, and coming back after a
// restart prefills no more than the new press: these numbers show whether it does.
//
//   node dist/scripts/bench-turns.js --model M.gguf [--turns 6] [--tokens 32] [--threads 1] [--json]
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parseArgs } from 'node:util';

import type { ReplyDone } from '../common/contract';
import { Host } from '../electron/host/host';
import { SettingsStore } from '../electron/host/storage/settings-store';

const QUESTIONS = [
  'Tell me a story about a dog who lived by the sea.',
  'What was the name of the dog?',
  'Where did it sleep at night?',
  'Who were its friends?',
  'What did they do on rainy days?',
  'How did the story end?',
  'Can you tell it again, shorter?',
  'What is the moral of the story?',
];

interface Row {
  what: string;
  ttft_ms: number;
  prompt_tokens: number;
  cached_tokens: number;
  prefilled: number;
}

async function started(home: string, model: string): Promise<{ host: Host; next: () => Promise<ReplyDone> }> {
  const host = await Host.start({ home, transport: 'websocket', model, keyboard: false, log: () => undefined });
  const waiting: Array<(d: ReplyDone) => void> = [];
  host.subscribe((name, payload) => {
    if (name === 'reply.done') waiting.shift()?.(payload as ReplyDone);
    if (name === 'reply.error') throw new Error(`bench-turns: a press failed: ${(payload as { message: string }).message}`);
  });
  while (host.state().engine.state !== 'ready') {
    if (host.state().engine.state === 'error') throw new Error(`bench-turns: ${host.state().engine.message ?? 'the model did not load'}`);
    await new Promise((r) => setTimeout(r, 20));
  }
  return { host, next: () => new Promise<ReplyDone>((resolve) => waiting.push(resolve)) };
}

function row(what: string, d: ReplyDone): Row {
  const t = d.timings;
  if (t === null) throw new Error(`bench-turns: ${what}: no timings`);
  return { what, ttft_ms: t.ttft_ms, prompt_tokens: t.prompt_tokens, cached_tokens: t.cached_tokens, prefilled: t.prompt_tokens - t.cached_tokens };
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { model: { type: 'string' }, turns: { type: 'string', default: '6' }, tokens: { type: 'string', default: '32' }, threads: { type: 'string', default: '1' }, json: { type: 'boolean', default: false } },
  });
  const model = values.model;
  if (model === undefined || !fs.existsSync(model)) throw new Error('bench-turns: --model PATH (an existing GGUF) is required');
  const turns = Math.min(QUESTIONS.length, Number(values.turns));
  const home = fs.mkdtempSync(path.join(os.tmpdir(), 'keymate-bench-turns-'));
  await (await SettingsStore.open(home)).store.update({ max_tokens: Number(values.tokens), temperature: 0, threads: Number(values.threads) });
  const rows: Row[] = [];
  const settle = (): Promise<void> => new Promise((r) => setTimeout(r, 300)); // the turn's write, and a quiet machine

  let { host, next } = await started(home, model);
  for (let i = 0; i < turns; i++) {
    const done = next();
    void host.handlers.generate({ prompt: QUESTIONS[i]! }, undefined);
    rows.push(row(`turn ${i + 1}`, await done));
    await settle();
  }
  const swiped = next();
  void host.handlers['conversation.regenerate']({}, undefined);
  rows.push(row('swipe of the last reply', await swiped));
  await settle();
  await host.stop();

  ({ host, next } = await started(home, model));
  const after = next();
  void host.handlers.generate({ prompt: QUESTIONS[turns % QUESTIONS.length]! }, undefined);
  rows.push(row('first turn after a restart', await after));
  await host.stop();
  fs.rmSync(home, { recursive: true, force: true });

  if (values.json) {
    process.stdout.write(`${JSON.stringify({ model: path.basename(model), threads: Number(values.threads), tokens: Number(values.tokens), rows })}\n`);
    return;
  }
  process.stdout.write(`bench-turns: ${path.basename(model)}, ${values.threads} thread(s), ${values.tokens}-token replies\n`);
  for (const r of rows) {
    process.stdout.write(
      `  ${r.what.padEnd(28)} ttft ${r.ttft_ms.toFixed(2).padStart(8)} ms  prompt ${String(r.prompt_tokens).padStart(5)}  cached ${String(r.cached_tokens).padStart(5)}  prefilled ${String(r.prefilled).padStart(4)}\n`,
    );
  }
}

main().catch((e: unknown) => {
  process.stderr.write(`${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(1);
});
