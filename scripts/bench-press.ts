// The last mile, measured as a user meets it: the keyboard simulator on a real pseudo-terminal,
// `keymate serve` with a model, the UI in headless Chromium. For each press, on one timeline:
//
//   key release on the keyboard -> host receipt -> engine call -> first token on the host
//   -> first reply text in the page
//
// per stage, p50/p90/p99 over the presses, with the engine's own TTFT beside it; then long
// replies' decode speed inside the app (the median of --long-replies, as one reply of a fast
// model lasts a few milliseconds and one busy moment of the machine decides it) against
// `keymate bench` on the same model and threads, run after each long reply while the app waits
// (so the two share the machine's slow and fast moments; run after the app had gone, the
// bench met other moments, and the ratio moved from 0.5 to 1.05 between runs of one build).
//
//   node dist/scripts/bench-press.js --model M.gguf [--presses 50] [--warmup 3] [--threads N]
//        [--tokens 8] [--decode-tokens 128] [--long-replies 5] [--hold-ms 150] [--profile DIR]
//        [--trace FILE] [--json]
//
// --profile DIR writes CPU profiles of the measured presses to DIR: host.cpuprofile (the
// serve process, V8's --cpu-prof) and page.cpuprofile (the page, over the DevTools protocol).
// --trace FILE writes Chromium's trace of the measured presses, every process and thread (what
// the page's profile cannot see: style, layout, paint, the compositor, the network process),
// with a user-timing mark where each reply's first token arrived and where its text showed.
// Open them in Chrome's DevTools (or ui.perfetto.dev) to see where the milliseconds went.
//
// Clocks. The simulator runs in a child process and stamps the release with the machine's
// monotonic clock (process.hrtime, the same in every process), exactly as bench-keylink does.
// The host stamps its moments on its own clock (common/clock.ts); this script sets its clock
// against the host's with the contract's `clock` request, and against the page's with
// page.evaluate, keeping the round trip with the least delay of many (its half-width bounds the
// error, printed as *_sync_ms). The page's moment is when the reply element's text first becomes
// non-empty (a MutationObserver: the DOM commit React made), and the app's own split of the same
// press, which the Performance view shows, is read from the page and compared with this one.
import { spawn, fork } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

import { chromium, type Page } from 'playwright-core';
import { WebSocket } from 'ws';

import { preciseNowMs } from '../common/clock';
import { type PerformanceRecord, WireClient } from '../common/contract';
import { probeBackends } from '../electron/host/engine/native-engine';
import { appThreads } from '../electron/host/services/engine-service';
import { DOUBLE_TAP_MS } from '../electron/host/session/key-session';
import { SimulatedKeyboard } from '../firmware-bridge/sim/simulator';
import { CHROMIUM_ARGS, findChromium } from '../tests/e2e/browser';
import { median, round, type Summary, summary } from './latency-stats';
import { intOption } from './script-args';

type SimCommand = { cmd: 'press' } | { cmd: 'release' } | { cmd: 'quit' };

/** The simulated keyboard, in its own process as a firmware would be: answers each edge with its monotonic stamp. */
async function simulatorChild(link: string): Promise<void> {
  const sim = new SimulatedKeyboard({ link });
  await sim.plug();
  process.on('message', (m: SimCommand) => {
    if (m.cmd === 'quit') {
      void sim.close().then(() => process.exit(0));
      return;
    }
    const hr = process.hrtime.bigint();
    if (m.cmd === 'press') sim.press();
    else sim.release();
    process.send?.({ edge: m.cmd, hr: hr.toString() });
  });
  process.send?.({ ready: true });
}

// ---- clocks -------------------------------------------------------------------------------------

/** This process's reading of the shared clock for a monotonic stamp taken in any process. */
const hrToMs = (() => {
  const hr0 = process.hrtime.bigint();
  const ms0 = preciseNowMs();
  return (hr: bigint): number => ms0 + Number(hr - hr0) / 1e6;
})();

/** other - mine, from the round trip with the least delay; `half` is that trip's half-width (the error bound). */
async function offsetOf(samples: number, read: () => Promise<number>): Promise<{ offset: number; half: number }> {
  let best = { offset: 0, half: Infinity };
  for (let i = 0; i < samples; i++) {
    const t0 = preciseNowMs();
    const other = await read();
    const t1 = preciseNowMs();
    if ((t1 - t0) / 2 < best.half) best = { offset: other - (t0 + t1) / 2, half: (t1 - t0) / 2 };
  }
  return best;
}

// ---- the page -----------------------------------------------------------------------------------

// Page code is given as text: this project's Node build has no DOM types.

/**
 * Installed before the UI loads: when each press's reply text first shows, and when it last
 * changed. With `marks`, user-timing marks for the trace; without, none, as each one costs the
 * page's main thread inside the interval being measured.
 */
const observeReplies = (marks: boolean): string => `(() => {
  const mark = ${marks ? '(name) => performance.mark(name)' : '() => undefined'};
  const seen = {};
  window.__keymatePress = seen;
  const look = (records) => {
    const el = document.querySelector('[data-testid="reply"]');
    const id = el === null ? null : el.getAttribute('data-press');
    if (id === null) return;
    const t = performance.timeOrigin + performance.now();
    const s = seen[id];
    // Once a press shows text, a later change inside the reply is the text growing: no need
    // to read it again (reading it costs the page time that grows with the reply). Changes
    // elsewhere in the page (telemetry, the history) are not the reply's.
    if (s !== undefined) { if (records.some((r) => el.contains(r.target))) s.last = t; return; }
    if ((el.textContent || '').trim().length > 0) {
      seen[id] = { first: t, last: t };
      mark('keymate: first text');
    }
  };
  new MutationObserver(look).observe(document, { subtree: true, childList: true, characterData: true, attributes: true, attributeFilter: ['data-press'] });
  // When each press's first token event reached the page (before the app's own listener).
  const received = {};
  window.__keymateReceived = received;
  const Native = window.WebSocket;
  window.WebSocket = class extends Native {
    constructor(...args) {
      super(...args);
      this.addEventListener('message', (e) => {
        if (typeof e.data !== 'string' || !e.data.startsWith('{"kind":"event","name":"reply.token"')) return;
        const t = performance.timeOrigin + performance.now();
        const m = /"press_id":"([^"]+)"/.exec(e.data);
        if (m !== null && received[m[1]] === undefined) {
          received[m[1]] = t;
          mark('keymate: first token received');
        }
      });
    }
  };
})();`;

interface Seen {
  first: number;
  last: number;
}

async function pageSeen(page: Page, pressId: string): Promise<Seen | null> {
  return page.evaluate<Seen | null>(`window.__keymatePress[${JSON.stringify(pressId)}] || null`);
}

async function pageReceived(page: Page, pressId: string): Promise<number | null> {
  return page.evaluate<number | null>(`window.__keymateReceived[${JSON.stringify(pressId)}] || null`);
}

interface AppSplit {
  total: number | null;
  keyboard: number | null;
  host: number | null;
  engine: number | null;
  display: number | null;
}

/** The app's own split of the last press, as the Performance view shows it (data attributes, ms). */
async function appSplit(page: Page): Promise<AppSplit | null> {
  return page.evaluate<AppSplit | null>(`(() => {
    const el = document.querySelector('[data-testid="press-split"]');
    if (el === null) return null;
    const n = (name) => { const v = el.getAttribute('data-' + name + '-ms'); return v === null || v === '' ? null : Number(v); };
    return { total: n('total'), keyboard: n('keyboard'), host: n('host'), engine: n('engine'), display: n('display') };
  })()`);
}

// ---- the run ------------------------------------------------------------------------------------

interface Options {
  model: string;
  presses: number;
  warmup: number;
  threads: number;
  tokens: number;
  decodeTokens: number;
  longReplies: number;
  holdMs: number;
  profile: string | null;
  trace: string | null;
  json: boolean;
}

function parseArgs(argv: string[]): Options {
  const o: Options = { model: '', presses: 50, warmup: 3, threads: 0, tokens: 8, decodeTokens: 128, longReplies: 5, holdMs: 150, profile: null, trace: null, json: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const v = argv[i + 1];
    const takes = a !== '--json';
    if (a === '--model') o.model = v ?? '';
    else if (a === '--presses') o.presses = intOption(a, v, 1);
    else if (a === '--warmup') o.warmup = intOption(a, v, 0);
    else if (a === '--threads') o.threads = intOption(a, v, 0);
    else if (a === '--tokens') o.tokens = intOption(a, v, 1);
    else if (a === '--decode-tokens') o.decodeTokens = intOption(a, v, 2);
    else if (a === '--long-replies') o.longReplies = intOption(a, v, 1);
    else if (a === '--hold-ms') o.holdMs = intOption(a, v, 0);
    else if (a === '--profile') o.profile = path.resolve(v ?? '.');
    else if (a === '--trace') o.trace = path.resolve(v ?? 'press.trace.json');
    else if (a === '--json') o.json = true;
    else throw new Error(`unknown option ${String(a)} (see the header of scripts/bench-press.ts)`);
    if (takes) i++;
  }
  if (o.model === '') throw new Error('--model PATH is required');
  if (!fs.existsSync(o.model)) throw new Error(`--model ${o.model}: no such file`);
  return o;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Polls `probe`; every 100 ms, so that this script takes little of the CPU the app is measured on (the page stamps its own moments). */
async function until<T>(what: string, timeoutMs: number, probe: () => Promise<T | null | undefined>, everyMs = 100): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v !== null && v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(everyMs);
  }
}

const repo = path.resolve(__dirname, '..', '..');
const bin = path.join(repo, 'bin', 'keymate');

/** `keymate bench`'s decode tok/s on the same model: the engine alone, on `threads` (0: the CLI's default, one per physical core). */
function cliBench(o: Options, threads: number, promptTokens: number, repeat: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const args = [bin, 'bench', '--model', o.model, '--backend', 'cpu', '--threads', String(threads), '--prompt-tokens', String(promptTokens), '--gen-tokens', String(o.decodeTokens), '--repeat', String(repeat), '--json'];
    const p = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    p.stdout.on('data', (d: Buffer) => (out += d.toString()));
    p.on('exit', (code) => {
      if (code !== 0) return reject(new Error(`keymate bench exited ${String(code)}`));
      resolve((JSON.parse(out) as { decode_tok_s: number }).decode_tok_s);
    });
  });
}

interface PressRow {
  press_id: string;
  total: number;
  keyboard: number;
  host: number;
  engine: number;
  ttft: number;
  display: number;
  transport: number;
  render: number;
  node_transport: number;
  overhead: number;
  app_total: number | null;
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  if (argv[0] === '--sim') return simulatorChild(argv[1] ?? '');
  const o = parseArgs(argv);
  const chromiumPath = findChromium();
  if (chromiumPath === null) throw new Error('no chromium (apt-get install chromium, or set KEYMATE_CHROMIUM)');

  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'keymate-press-'));
  const link = path.join(dir, 'keyboard');
  const env: NodeJS.ProcessEnv = { ...process.env, KEYMATE_HOME: path.join(dir, 'home') };
  const nodeFlags: string[] = [];
  if (o.profile !== null) {
    fs.mkdirSync(o.profile, { recursive: true });
    nodeFlags.push('--cpu-prof', `--cpu-prof-dir=${o.profile}`, '--cpu-prof-name=host.cpuprofile');
  }
  const sim = fork(__filename, ['--sim', link], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const edges: Array<(hr: bigint) => void> = [];
  sim.on('message', (m: { edge?: string; hr?: string }) => {
    if (m.hr !== undefined) edges.shift()?.(BigInt(m.hr));
  });
  await new Promise<void>((resolve) => sim.once('message', () => resolve()));
  const edge = (cmd: 'press' | 'release'): Promise<number> =>
    new Promise((resolve) => {
      edges.push((hr) => resolve(hrToMs(hr)));
      sim.send({ cmd });
    });

  const serve = spawn(process.execPath, [...nodeFlags, bin, 'serve', '--model', o.model, '--device', link], { stdio: ['ignore', 'pipe', 'pipe'], env });
  let serveOut = '';
  let serveErr = '';
  serve.stdout.on('data', (d: Buffer) => (serveOut += d.toString()));
  serve.stderr.on('data', (d: Buffer) => (serveErr += d.toString()));
  const browser = await chromium.launch({ executablePath: chromiumPath, args: CHROMIUM_ARGS, timeout: 30_000 });
  let ws: WebSocket | null = null;
  try {
    const url = await until('the URL from keymate serve', 30_000, () => {
      if (serve.exitCode !== null) throw new Error(`keymate serve exited (${serve.exitCode})`);
      const line = serveOut.split('\n')[0];
      return Promise.resolve(serveOut.includes('\n') && line !== undefined ? (JSON.parse(line) as { url: string }).url : null);
    });

    // A contract client of its own, for the settings, the host's clock and the records.
    const socket = new WebSocket(url.replace(/^http/, 'ws').replace(/\/\?token=/, '/ws?token='));
    ws = socket;
    const client = new WireClient({ send: (t) => socket.send(t) });
    socket.on('message', (d: Buffer) => client.receive(d.toString()));
    await new Promise<void>((resolve, reject) => {
      socket.once('open', () => resolve());
      socket.once('error', reject);
    });
    await client.request('settings.set', { patch: { threads: o.threads, max_tokens: o.tokens } });
    const hostClock = () => client.request('clock', {}).then((r) => r.t_ms);
    // The same first token as a second client on this machine hears it: the transport without a browser.
    const nodeReceived = new Map<string, number>();
    client.on('reply.token', (t) => {
      if (!nodeReceived.has(t.press_id)) nodeReceived.set(t.press_id, preciseNowMs());
    });
    // The host's word that a reply ended: the page is read only after it, because reading the
    // page while the reply streams would take its main thread from the reply being measured.
    const hostDone = new Set<string>();
    let onHostDone: (() => void) | null = null;
    client.on('reply.done', (d) => {
      hostDone.add(d.press_id);
      onHostDone?.();
    });
    client.on('reply.error', (e) => {
      hostDone.add(e.press_id);
      onHostDone?.();
    });
    const newReplyDone = (before: number, timeoutMs: number): Promise<void> =>
      new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`timed out after ${timeoutMs} ms waiting for the host to finish the reply`)), timeoutMs);
        onHostDone = () => {
          if (hostDone.size <= before) return;
          clearTimeout(timer);
          onHostDone = null;
          resolve();
        };
        onHostDone();
      });

    const page = await browser.newPage({ viewport: { width: 1280, height: 860 } });
    await page.addInitScript({ content: observeReplies(o.trace !== null) });
    await page.goto(url);
    await page.getByTestId('nav-companion').waitFor();
    await until('the keyboard to connect', 20_000, async () => ((await page.getByTestId('device-status').textContent()) === 'connected' ? true : null));
    await until('the model to load', 120_000, async () => ((await client.request('state.get', {})).engine.state === 'ready' ? true : null));

    const pageClock = () => page.evaluate<number>('performance.timeOrigin + performance.now()');
    const syncBefore = { host: await offsetOf(40, hostClock), page: await offsetOf(40, pageClock) };

    const presses: Array<{ id: string; edge: number }> = [];
    let lastId = '';
    const press = async (timeoutMs: number): Promise<{ id: string; edge: number }> => {
      // Each press a question of its own, as before presses continued a conversation: the
      // prompt (and the engine's TTFT) stays the same size from press to press.
      await client.request('conversation.new', {});
      const before = hostDone.size;
      await edge('press');
      await sleep(o.holdMs);
      const t = await edge('release');
      await newReplyDone(before, timeoutMs);
      const id = await until('the reply to show', timeoutMs, async () => {
        const id = await page.getByTestId('reply').getAttribute('data-press');
        return id !== null && id !== lastId && (await pageSeen(page, id)) !== null ? id : null;
      });
      await until('the reply to finish', timeoutMs, async () => ((await page.getByTestId('reply').getAttribute('data-done')) === 'true' ? true : null));
      lastId = id;
      return { id, edge: t };
    };

    const cdp = o.profile === null ? null : await page.context().newCDPSession(page);
    for (let i = 0; i < o.warmup + o.presses; i++) {
      if (i === o.warmup && cdp !== null) {
        await cdp.send('Profiler.enable');
        // 100 us, not the default 1 ms: a press's work in the page is a few milliseconds.
        await cdp.send('Profiler.setSamplingInterval', { interval: 100 });
        await cdp.send('Profiler.start');

      }
      if (i === o.warmup && o.trace !== null) await browser.startTracing(page, { categories: ['devtools.timeline', 'toplevel', 'blink.user_timing', 'disabled-by-default-devtools.timeline'] });
      const p = await press(60_000);
      if (i >= o.warmup) presses.push(p);
      // Past the double-tap window: a quick next press would start a new conversation instead.
      await sleep(DOUBLE_TAP_MS + 20 + (i % 4) * 10);
    }

    // The Performance view's split of the last press, next to this script's.
    await page.getByTestId('nav-performance').click();
    const lastSplit = await until('the press split', 5000, () => appSplit(page));
    await page.getByTestId('nav-companion').click();

    if (o.trace !== null) fs.writeFileSync(o.trace, await browser.stopTracing());
    // Long replies: decode speed inside the app, and as the page shows it.
    // Each followed by `keymate bench` on the same threads and prompt length, the app waiting.
    await client.request('settings.set', { patch: { max_tokens: o.decodeTokens } });
    const appThreadCount = appThreads(o.threads, probeBackends().cpu.threads);
    const longs: { id: string }[] = [];
    const engineAlone: number[] = [];
    for (let i = 0; i < o.longReplies; i++) {
      const long = await press(300_000);
      longs.push(long);
      const record = (await client.request('performance.list', { limit: 5 })).records.find((r) => r.press_id === long.id);
      if (record === undefined || record.timings === null) throw new Error(`long reply ${long.id}: no record`);
      engineAlone.push(await cliBench(o, appThreadCount, record.timings.prompt_tokens, 1));
      await sleep(DOUBLE_TAP_MS + 20);
    }
    if (cdp !== null && o.profile !== null) {
      const { profile } = await cdp.send('Profiler.stop');
      fs.writeFileSync(path.join(o.profile, 'page.cpuprofile'), JSON.stringify(profile));
    }
    const syncAfter = { host: await offsetOf(40, hostClock), page: await offsetOf(40, pageClock) };

    const records = (await client.request('performance.list', { limit: o.presses + o.warmup + 5 })).records;
    const byId = new Map<string, PerformanceRecord>(records.map((r) => [r.press_id, r]));
    const hostOffset = (syncBefore.host.offset + syncAfter.host.offset) / 2;
    const pageOffset = (syncBefore.page.offset + syncAfter.page.offset) / 2;

    const rows: PressRow[] = [];
    for (const p of presses) {
      const r = byId.get(p.id);
      const seen = await pageSeen(page, p.id);
      const received = await pageReceived(page, p.id);
      const t = r?.timings;
      if (t === undefined || seen === null || received === null || t.first_at_ms === null || t.first_at_ms === undefined)
        throw new Error(`press ${p.id}: no record or no page stamp`);
      const first = t.first_at_ms - hostOffset; // first token on the host, on this script's clock
      const trigger = first - t.e2e_ms; // host receipt of the release
      const shown = seen.first - pageOffset;
      rows.push({
        press_id: p.id,
        total: shown - p.edge,
        keyboard: trigger - p.edge,
        host: t.host_ms,
        engine: t.e2e_ms - t.host_ms,
        ttft: t.ttft_ms,
        display: shown - first,
        transport: received - pageOffset - first,
        render: seen.first - received,
        node_transport: (nodeReceived.get(p.id) ?? NaN) - first,
        overhead: shown - p.edge - t.ttft_ms,
        app_total: null,
      });
    }
    const lastRow = rows[rows.length - 1];
    if (lastRow !== undefined) lastRow.app_total = lastSplit.total;

    const longRuns: { tokens: number; promptTokens: number; appTokS: number; pageTokS: number }[] = [];
    for (const long of longs) {
      const record = byId.get(long.id);
      const seen = await pageSeen(page, long.id);
      if (record === undefined || seen === null) throw new Error(`long reply ${long.id}: no record or no page stamps`);
      const t = record.timings;
      longRuns.push({ tokens: t.tokens, promptTokens: t.prompt_tokens, appTokS: t.decode_tok_s, pageTokS: ((t.tokens - 1) * 1000) / (seen.last - seen.first) });
    }
    const longRecord = { timings: { tokens: median(longRuns.map((r) => r.tokens)), prompt_tokens: longRuns[0]?.promptTokens ?? 0, decode_tok_s: median(longRuns.map((r) => r.appTokS)) } };
    const pageTokS = median(longRuns.map((r) => r.pageTokS));

    ws.close();
    ws = null;
    await browser.close();
    sim.send({ cmd: 'quit' });
    serve.kill('SIGINT');
    await Promise.all([new Promise((r) => serve.once('exit', r)), new Promise((r) => sim.once('exit', r))]);

    // The engine alone on the CLI's own default threads (one per physical core), after the app has gone.
    const engineAloneDefault = await cliBench(o, 0, longRecord.timings.prompt_tokens, 5);
    const benchTokS = median(engineAlone);

    const stage = (k: keyof Omit<PressRow, 'press_id' | 'app_total'>): Summary => summary(rows.map((r) => r[k]));
    const result = {
      benchmark: 'press',
      model: path.basename(o.model),
      presses: rows.length,
      threads: o.threads,
      measured: 'keyboard key release -> first reply text in the page (Chromium), per stage, ms',
      total_ms: stage('total'),
      keyboard_ms: stage('keyboard'),
      host_ms: stage('host'),
      engine_ms: stage('engine'),
      engine_ttft_ms: stage('ttft'),
      display_ms: stage('display'),
      transport_ms: stage('transport'),
      render_ms: stage('render'),
      node_transport_ms: stage('node_transport'),
      overhead_ms: stage('overhead'),
      app_split_last: { app: lastSplit, bench_total_ms: lastRow === undefined ? null : round(lastRow.total) },
      decode: {
        replies: longRuns.length,
        tokens: longRecord.timings.tokens,
        app_engine_tok_s_each: longRuns.map((r) => round(r.appTokS)),
        app_engine_tok_s: round(longRecord.timings.decode_tok_s),
        page_tok_s: round(pageTokS),
        threads: appThreadCount,
        bench_tok_s_each: engineAlone.map(round),
        bench_tok_s: round(benchTokS),
        ratio: round(longRecord.timings.decode_tok_s / benchTokS),
        bench_physical_cores_tok_s: round(engineAloneDefault),
      },
      sync_ms: { host: round(Math.max(syncBefore.host.half, syncAfter.host.half)), page: round(Math.max(syncBefore.page.half, syncAfter.page.half)), host_drift: round(syncAfter.host.offset - syncBefore.host.offset), page_drift: round(syncAfter.page.offset - syncBefore.page.offset) },
      node: process.version,
      cpu: os.cpus()[0]?.model ?? 'unknown',
      cpus: os.availableParallelism(),
    };
    if (o.json) process.stdout.write(JSON.stringify(result) + '\n');
    else {
      const line = (name: string, s: Summary): string => `  ${name.padEnd(22)} p50 ${s.p50.toFixed(2).padStart(8)}  p90 ${s.p90.toFixed(2).padStart(8)}  p99 ${s.p99.toFixed(2).padStart(8)}  max ${s.max.toFixed(2).padStart(8)}`;
      process.stdout.write(
        [
          `bench-press: ${result.model}, ${rows.length} presses, threads ${o.threads || 'default'} (ms)`,
          line('total (release->page)', result.total_ms),
          line('keyboard', result.keyboard_ms),
          line('host', result.host_ms),
          line('engine', result.engine_ms),
          line('  engine TTFT', result.engine_ttft_ms),
          line('display', result.display_ms),
          line('  host -> page', result.transport_ms),
          line('  page -> text', result.render_ms),
          line('  (host -> a Node client)', result.node_transport_ms),
          line('overhead (total-TTFT)', result.overhead_ms),
          `  app's split of the last press: ${JSON.stringify(lastSplit)} (bench total ${String(result.app_split_last.bench_total_ms)})`,
          `  decode on ${result.decode.threads} thread(s): in the app ${result.decode.app_engine_tok_s} tok/s, page ${result.decode.page_tok_s}, keymate bench ${result.decode.bench_tok_s} (ratio ${result.decode.ratio}); keymate bench on one thread per physical core ${result.decode.bench_physical_cores_tok_s}`,
          `  clock sync half-widths: host ${result.sync_ms.host} ms, page ${result.sync_ms.page} ms; drift host ${result.sync_ms.host_drift}, page ${result.sync_ms.page_drift}`,
          '',
        ].join('\n'),
      );
    }
  } catch (e) {
    throw new Error(`${e instanceof Error ? e.message : String(e)}\n--- serve stderr ---\n${serveErr.slice(-2000)}`, { cause: e });
  } finally {
    ws?.close();
    await browser.close().catch(() => undefined);
    if (serve.exitCode === null) serve.kill('SIGKILL');
    if (sim.exitCode === null) sim.kill('SIGKILL');
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((e: unknown) => {
  process.stderr.write(`bench-press: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exitCode = 1;
});
