// The engine's hand-over of tokens to JavaScript, alone (no host, no page): decode speed of
// replies streamed through the addon's token callback, with the callback asking for no hold
// and for the host's hold (ENGINE_HOLD_MS, what a reply gets once it shows text), interleaved,
// against the engine's own bench on the same model and threads (no callback at all). With
// --serve, then the same replies inside `keymate serve` (asked for by a contract client, the
// `generate` request), without a window and with the UI open in headless Chromium: what the
// host and the page cost the engine.
//
//   node dist/scripts/bench-handover.js --model M.gguf [--replies 15] [--tokens 128] [--threads 1]
//        [--rounds 2] [--serve] [--json]
//
// Each reply is greedy from the same short prompt, so every reply decodes the same tokens; the
// median of --replies is printed per round.
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

import { type Browser, chromium } from 'playwright-core';
import { WebSocket } from 'ws';

import { WireClient } from '../common/contract';

import { NativeEngine } from '../electron/host/engine/native-engine';
import { ENGINE_HOLD_MS } from '../electron/host/session/token-batcher';
import { CHROMIUM_ARGS, findChromium } from '../tests/e2e/browser';
import { median, round } from './latency-stats';
import { intOption } from './script-args';

interface Options {
  model: string;
  replies: number;
  tokens: number;
  threads: number;
  rounds: number;
  serve: boolean;
  json: boolean;
}

function parseArgs(argv: string[]): Options {
  const o: Options = { model: '', replies: 15, tokens: 128, threads: 1, rounds: 2, serve: false, json: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const v = argv[i + 1];
    if (a === '--json' || a === '--serve') {
      if (a === '--json') o.json = true;
      else o.serve = true;
      continue;
    }
    if (a === '--model') o.model = v ?? '';
    else if (a === '--replies') o.replies = intOption(a, v, 1);
    else if (a === '--tokens') o.tokens = intOption(a, v, 2);
    else if (a === '--threads') o.threads = intOption(a, v, 1);
    else if (a === '--rounds') o.rounds = intOption(a, v, 1);
    else throw new Error(`unknown option ${String(a)} (see the header of scripts/bench-handover.ts)`);
    i++;
  }
  if (o.model === '') throw new Error('--model PATH is required');
  if (!fs.existsSync(o.model)) throw new Error(`--model ${o.model}: no such file`);
  return o;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Decode speed inside `keymate serve`: the median of o.replies replies, asked for over the contract; with a page open in Chromium when `page`. */
async function serveDecode(o: Options, page: boolean): Promise<number> {
  const home = fs.mkdtempSync(path.join(os.tmpdir(), 'keymate-handover-'));
  const serve = spawn(process.execPath, [path.join(__dirname, '..', '..', 'bin', 'keymate'), 'serve', '--model', o.model], {
    env: { ...process.env, KEYMATE_HOME: home },
    stdio: ['ignore', 'pipe', 'ignore'],
  });
  let out = '';
  serve.stdout.on('data', (d: Buffer) => (out += d.toString()));
  let browser: Browser | null = null;
  let socket: WebSocket | null = null;
  try {
    for (let t = 0; !out.includes('\n'); t++) {
      if (serve.exitCode !== null || t > 300) throw new Error('keymate serve did not start');
      await sleep(100);
    }
    const url = (JSON.parse(out.split('\n')[0] ?? '') as { url: string }).url;
    if (page) {
      const chromiumPath = findChromium();
      if (chromiumPath === null) throw new Error('--serve: no chromium (apt-get install chromium, or set KEYMATE_CHROMIUM)');
      browser = await chromium.launch({ executablePath: chromiumPath, args: CHROMIUM_ARGS, timeout: 30_000 });
      const p = await browser.newPage();
      await p.goto(url);
      await p.getByTestId('nav-companion').waitFor();
    }
    const ws = new WebSocket(url.replace(/^http/, 'ws').replace(/\/\?token=/, '/ws?token='));
    socket = ws;
    const client = new WireClient({ send: (t) => ws.send(t) });
    ws.on('message', (d: Buffer) => client.receive(d.toString()));
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
    });
    await client.request('settings.set', { patch: { threads: o.threads, max_tokens: o.tokens, temperature: 0 } });
    while ((await client.request('state.get', {})).engine.state !== 'ready') await sleep(100);
    const rates: number[] = [];
    for (let i = 0; i < o.replies; i++) {
      await client.request('conversation.new', {});
      const done = new Promise<number>((resolve) => {
        const off = client.on('reply.done', (d) => {
          off();
          resolve(d.timings?.decode_tok_s ?? NaN);
        });
      });
      await client.request('generate', { prompt: 'Once upon a time' });
      rates.push(await done);
      await sleep(200);
    }
    return median(rates);
  } finally {
    socket?.close();
    await browser?.close();
    serve.kill('SIGINT');
    await new Promise((r) => serve.once('exit', r));
  }
}

async function main(): Promise<void> {
  const o = parseArgs(process.argv.slice(2));
  const rounds: { no_hold_tok_s: number; hold_tok_s: number; bench_tok_s: number }[] = [];
  const engine = await NativeEngine.load(o.model, { backend: 'cpu', threads: o.threads });
  try {
    const decode = async (hold: number): Promise<number> => {
      const rates: number[] = [];
      for (let i = 0; i < o.replies; i++) {
        const r = await engine.generate({ prompt: 'Once upon a time', temperature: 0, maxTokens: o.tokens }, { onToken: () => hold });
        rates.push(r.decodeTokS);
      }
      return median(rates);
    };
    for (let r = 0; r < o.rounds; r++) {
      const noHold = await decode(0);
      const hold = await decode(ENGINE_HOLD_MS);
      const bench = await engine.bench({ promptTokens: 8, genTokens: o.tokens, repeat: 5 });
      rounds.push({ no_hold_tok_s: round(noHold), hold_tok_s: round(hold), bench_tok_s: round(bench.decodeTokS) });
    }
  } finally {
    engine.close();
  }
  const serve: { no_page_tok_s: number; page_tok_s: number }[] = [];
  for (let r = 0; o.serve && r < o.rounds; r++) serve.push({ no_page_tok_s: round(await serveDecode(o, false)), page_tok_s: round(await serveDecode(o, true)) });
  const result = { benchmark: 'handover', model: o.model, threads: o.threads, tokens: o.tokens, replies: o.replies, hold_ms: ENGINE_HOLD_MS, rounds, serve };
  if (o.json) {
    process.stdout.write(JSON.stringify(result) + '\n');
    return;
  }
  process.stdout.write(`bench-handover: ${o.model}, ${o.threads} thread(s), ${o.replies} replies of ${o.tokens} tokens, decode tok/s (medians)\n`);
  for (const r of rounds) process.stdout.write(`  no hold ${r.no_hold_tok_s.toFixed(0)}   hold ${ENGINE_HOLD_MS} ms ${r.hold_tok_s.toFixed(0)}   engine bench ${r.bench_tok_s.toFixed(0)}\n`);
  for (const r of serve) process.stdout.write(`  keymate serve: no window ${r.no_page_tok_s.toFixed(0)}   the UI open in Chromium ${r.page_tok_s.toFixed(0)}\n`);
}

main().catch((e: unknown) => {
  process.stderr.write(`bench-handover: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(1);
});
