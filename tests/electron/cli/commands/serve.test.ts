// keymate serve as a user runs it: the first stdout line is {"url",
// "api_base", "api_key"}, the url on 127.0.0.1 with the token (the API is
// serve-api.test.ts's); requests without the token are refused; with the
// device simulator on --device, a press and release on the keyboard streams
// a reply to a WebSocket client, unplug and replug show as device events;
// Ctrl-C stops it cleanly. Bad options are usage errors.
import * as assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as http from 'node:http';
import * as path from 'node:path';
import { test } from 'node:test';

import WebSocket from 'ws';

import { SimulatedKeyboard } from '../../../../firmware-bridge/sim/simulator';
import { assertOneLineError, keymate } from '../../../support/cli';
import { bin, stories, tempDir } from '../../../support/repo';
import { specialFiles } from '../../../support/special-files';
import { SettingsStore } from '../../../../electron/host/storage/settings-store';

/** A received frame as text (ws hands over a Buffer, an ArrayBuffer or fragments). */
function text(d: WebSocket.RawData): string {
  return (Array.isArray(d) ? Buffer.concat(d) : Buffer.isBuffer(d) ? d : Buffer.from(d)).toString('utf8');
}

function firstLine(child: ReturnType<typeof spawn>): Promise<string> {
  return new Promise((resolve, reject) => {
    let out = '';
    let err = '';
    child.stderr?.on('data', (d: Buffer) => (err += d.toString()));
    child.stdout?.on('data', (d: Buffer) => {
      out += d.toString();
      const nl = out.indexOf('\n');
      if (nl >= 0) resolve(out.slice(0, nl));
    });
    child.once('exit', (code) => reject(new Error(`serve exited (${String(code)}) before printing its URL: ${err}`)));
  });
}

function status(url: string): Promise<number> {
  return new Promise((resolve, reject) => http.get(url, (res) => resolve(res.statusCode ?? 0)).on('error', reject));
}

test('serve: URL line, token required, a keyboard press streams a reply, unplug/replug, Ctrl-C', { timeout: 90_000 }, async (t) => {
  const link = path.join(tempDir('keymate-serve-'), 'keyboard');
  const sim = new SimulatedKeyboard({ link, hostTimeoutMs: 3000, ackTimeoutMs: 1000 });
  await sim.plug();
  t.after(() => sim.close());
  const child = spawn(process.execPath, [bin, 'serve', '--port', '0', '--model', stories(), '--device', link], {
    env: { ...process.env, KEYMATE_HOME: tempDir('keymate-serve-home-') },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  t.after(() => child.kill('SIGKILL'));

  const line = JSON.parse(await firstLine(child)) as { url: string };
  assert.deepEqual(Object.keys(line), ['url', 'api_base', 'api_key']);
  const url = new URL(line.url);
  assert.equal(url.hostname, '127.0.0.1');
  const token = url.searchParams.get('token') ?? '';
  assert.ok(token.length >= 40, 'a long random token');
  assert.equal(await status(`http://127.0.0.1:${url.port}/`), 401);
  assert.equal(await status(`http://127.0.0.1:${url.port}/?token=x${token}`), 403);

  const ws = new WebSocket(`ws://127.0.0.1:${url.port}/ws?token=${token}`);
  const events: { name: string; payload: Record<string, unknown> }[] = [];
  let state: { engine: { state: string } } | undefined;
  ws.on('message', (d) => {
    const m = JSON.parse(text(d)) as { kind: string; name: string; payload: Record<string, unknown>; result?: typeof state };
    if (m.kind === 'event') events.push(m);
    else state = m.result;
  });
  await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
  const until = async (what: string, check: (e: { name: string; payload: Record<string, unknown> }) => boolean, from = 0): Promise<number> => {
    const deadline = Date.now() + 20_000;
    for (;;) {
      const i = events.findIndex((e, k) => k >= from && check(e));
      if (i >= 0) return i;
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 10));
    }
  };

  // The model and the keyboard may be ready already: the state says, else the events will.
  ws.send(JSON.stringify({ kind: 'request', id: 1, name: 'state.get', payload: {} }));
  const deadline = Date.now() + 20_000;
  while ((!sim.hostPresent || state === undefined) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  assert.ok(sim.hostPresent, 'serve connected to the simulated keyboard');
  if (state?.engine.state !== 'ready') await until('the model', (e) => e.name === 'engine' && e.payload['state'] === 'ready');

  sim.press();
  await new Promise((r) => setTimeout(r, 50));
  sim.release();
  const doneAt = await until('reply.done', (e) => e.name === 'reply.done');
  const done = events[doneAt]?.payload as { completion: string; timings: { ttft_ms: number } };
  assert.ok(done.completion.length > 0);
  assert.ok(done.timings.ttft_ms > 0);
  const tokens = events.filter((e) => e.name === 'reply.token').map((e) => e.payload['text']).join('');
  assert.equal(tokens, done.completion);

  await sim.unplug();
  const goneAt = await until('disconnected', (e) => e.name === 'device' && e.payload['state'] === 'disconnected', doneAt);
  await sim.plug();
  await until('connected again', (e) => e.name === 'device' && e.payload['connected'] === true, goneAt);
  ws.close();

  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  child.kill('SIGINT');
  assert.equal(await exited, 0);
});

test('serve: bad options are usage errors; a missing model is a one-line error', () => {
  assert.equal(keymate(['serve', '--port', '70000']).status, 2);
  assert.equal(keymate(['serve', '--bogus']).status, 2);
  assertOneLineError(keymate(['serve', '--model', '/nonexistent/model.gguf']), '/nonexistent/model.gguf', /no such file/);
});

// A named pipe saved as the model (as an older Keymate let it be) used to
// wedge serve: the engine "loading" forever and Ctrl-C ignored.
test('serve: a pipe saved as the model is reported, the server answers, and Ctrl-C stops it', { timeout: 60_000 }, async (t) => {
  const special = await specialFiles(tempDir('keymate-serve-special-'));
  t.after(() => special.close());
  const pipe = special.paths[0]?.path ?? '';
  const home = tempDir('keymate-serve-home-');
  await (await SettingsStore.open(home)).store.update({ model: pipe });
  const child = spawn(process.execPath, [bin, 'serve', '--port', '0'], { env: { ...process.env, KEYMATE_HOME: home }, stdio: ['ignore', 'pipe', 'pipe'] });
  t.after(() => child.kill('SIGKILL'));
  let err = '';
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const url = new URL((JSON.parse(await firstLine(child)) as { url: string }).url);
  assert.equal(await status(url.href), 200);
  const deadline = Date.now() + 10_000;
  while (!err.includes('named pipe (FIFO), not a model file') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  assert.match(err, /keymate: error: .*pipe\.gguf: is a named pipe \(FIFO\), not a model file/);
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  child.kill('SIGINT');
  const code = await Promise.race([exited, new Promise<string>((r) => setTimeout(() => r('still running 10 s after Ctrl-C'), 10_000))]);
  assert.equal(code, 0);
});
