// The addon through its typed wrapper: streaming, one operation at a time,
// cancellation, callback errors, argument checking on the JS thread, and
// errors carried as rejected Promises.
import * as assert from 'node:assert/strict';
import * as path from 'node:path';
import { after, before, test } from 'node:test';

import { NativeEngine, probeBackends } from '../../../../electron/host/engine/native-engine';
import type { NativeTokenEvent } from '../../../../electron/host/engine/native';
import { loadAddon } from '../../../../electron/host/engine/load-addon';
import { stories, tempDir } from '../../../support/repo';

let engine: NativeEngine;
before(async () => {
  engine = await NativeEngine.load(stories(), { backend: 'cpu', threads: 1 });
});
after(() => engine.close());

const greedy = { temperature: 0, maxTokens: 16 };

test('tokens stream in order, one call each, and add up to the completion', async () => {
  const events: NativeTokenEvent[] = [];
  const r = await engine.generate({ prompt: 'Once upon a time', ...greedy }, { onToken: (e) => events.push(e) });
  assert.equal(r.stop, 'length');
  assert.equal(events.length, 16);
  assert.deepEqual(events.map((e) => e.index), [...Array(16).keys()]);
  assert.deepEqual(events.map((e) => e.token), r.tokens);
  assert.equal(events.map((e) => e.text).join(''), r.completion);
  for (let i = 1; i < events.length; i++) assert.ok(events[i]!.tMs >= events[i - 1]!.tMs);
  assert.ok(r.ttftMs > 0 && r.ttftMs <= events[0]!.tMs + 1e-9);
});

test('a second generate while one runs rejects clearly; the first is unharmed', async () => {
  const first = engine.generate({ prompt: 'Once upon a time', ...greedy });
  assert.equal(engine.busy, 'generate');
  await assert.rejects(engine.generate({ prompt: 'Hi', ...greedy }), /generate: the engine is busy with generate \(wait for it, or call cancel\(\)\)/);
  await assert.rejects(engine.bench({ promptTokens: 4, genTokens: 2, repeat: 1 }), /bench: the engine is busy with generate/);
  assert.throws(() => engine.tokenize('x'), /tokenize: the engine is busy with generate/);
  assert.throws(() => engine.close(), /close: the engine is busy with generate/);
  assert.equal((await first).tokens.length, 16);
  assert.equal(engine.busy, null);
});

test('the next operation may start as soon as the Promise settles', async () => {
  const a = await engine.generate({ prompt: 'Once upon a time', ...greedy });
  const b = await engine.generate({ prompt: 'Once upon a time', ...greedy });
  assert.equal(a.completion, b.completion);
});

test('stage times come with a reply only when the engine was loaded with profile on', async () => {
  const plain = await engine.generate({ prompt: 'Once upon a time', temperature: 0, maxTokens: 8 });
  assert.equal(plain.stagesMs, null);
  const profiled = await NativeEngine.load(stories(), { backend: 'cpu', profile: true });
  try {
    const r = await profiled.generate({ prompt: 'Once upon a time', temperature: 0, maxTokens: 8 });
    assert.ok(r.stagesMs, 'stagesMs is set');
    assert.ok(r.stagesMs.ffn > 0 && r.stagesMs.qkv > 0, JSON.stringify(r.stagesMs));
    assert.deepEqual(r.tokens, plain.tokens, 'profiling changes timing, never tokens');
  } finally {
    profiled.close();
  }
});

test('maxTokens 0 warms the prefix cache: the next prompt prefills only its new tokens', async () => {
  const persona = 'Once upon a time, there was a little girl named Lily.';
  const warm = await engine.generate({ prompt: persona, temperature: 0, maxTokens: 0 });
  assert.deepEqual(warm.tokens, []);
  assert.equal(warm.completion, '');
  const press = await engine.generate({ prompt: `${persona} She loved to`, temperature: 0, maxTokens: 8 });
  assert.equal(press.cachedTokens, warm.promptTokens);
  assert.ok(press.promptTokens > press.cachedTokens);
});

test('cancel() from the token callback stops between tokens', async () => {
  let seen = 0;
  const r = await engine.generate(
    { prompt: 'Once upon a time', temperature: 0, maxTokens: 200 },
    {
      onToken: () => {
        seen++;
        if (seen === 3) assert.equal(engine.cancel(), true);
      },
    },
  );
  assert.equal(r.stop, 'cancelled');
  assert.ok(r.tokens.length >= 3 && r.tokens.length < 200, `${r.tokens.length} tokens`);
  assert.equal(engine.cancel(), false, 'nothing to cancel once it is done');
});

test('an AbortSignal cancels', async () => {
  const controller = new AbortController();
  const r = await engine.generate({ prompt: 'Once upon a time', temperature: 0, maxTokens: 200 }, { onToken: (e) => { if (e.index === 1) controller.abort(); }, signal: controller.signal });
  assert.equal(r.stop, 'cancelled');
});

test('a throwing token callback stops generation and rejects with what it threw', async () => {
  const boom = new Error('callback failed');
  await assert.rejects(
    engine.generate({ prompt: 'Once upon a time', temperature: 0, maxTokens: 200 }, { onToken: () => { throw boom; } }),
    (e: unknown) => e === boom,
  );
  assert.equal(engine.busy, null);
  assert.equal((await engine.generate({ prompt: 'Once', ...greedy })).tokens.length, 16);
});

test('arguments are checked on the JS thread with TypeError / RangeError', () => {
  // A raw handle: the checks come before any state check, so no model is needed.
  const h = new (loadAddon().EngineHandle)() as unknown as Record<string, (...a: unknown[]) => unknown>;
  const generate = (req: unknown, cb: unknown = () => {}) => h['generate']!.call(h, req, cb);
  assert.throws(() => generate({ prompt: 5 }), { name: 'TypeError', message: 'generate: request.prompt must be a string, got a number' });
  assert.throws(() => generate({}), { name: 'TypeError', message: 'generate: request.prompt must be a string, got undefined' });
  assert.throws(() => generate('hi'), { name: 'TypeError', message: 'generate: request must be an object, got a string' });
  assert.throws(() => generate({ prompt: 'x' }, 'cb'), { name: 'TypeError', message: 'generate: onToken must be a function, got a string' });
  assert.throws(() => generate({ prompt: 'x', max_tokens: 3 }), { name: 'TypeError', message: /unknown field 'max_tokens'/ });
  assert.throws(() => generate({ prompt: 'x', maxTokens: -1 }), { name: 'RangeError', message: /request\.maxTokens must be an integer in \[0, 1048576\], got -1/ });
  assert.throws(() => generate({ prompt: 'x', maxTokens: 2.5 }), { name: 'RangeError' });
  assert.throws(() => generate({ prompt: 'x', topP: Number.NaN }), { name: 'RangeError', message: /request\.topP must be a number in \[0, 1\]/ });
  assert.throws(() => generate({ prompt: 'x', seed: -1 }), { name: 'RangeError', message: /request\.seed/ });
  assert.throws(() => generate({ prompt: 'x', seed: 2 ** 60 }), { name: 'RangeError', message: /use a bigint/ });
  assert.throws(() => h['load']!.call(h, 42), { name: 'TypeError', message: 'load: path must be a string, got a number' });
  assert.throws(() => h['load']!.call(h, 'x.gguf', { backend: 'tpu' }), { name: 'RangeError', message: /load: options\.backend must be one of auto, cpu, cuda, got 'tpu'/ });
  assert.throws(() => h['bench']!.call(h, { path: 'warp' }), { name: 'RangeError' });
  assert.throws(() => new (loadAddon().EngineHandle as unknown as new (x: number) => object)(1), { name: 'TypeError' });
  assert.equal(h['busy'], null, 'a refused call starts nothing');
});

test('a bigint seed beyond 2^53 is accepted', async () => {
  const r = await engine.generate({ prompt: 'Once', temperature: 1, maxTokens: 4, seed: 2n ** 63n + 5n });
  assert.equal(r.tokens.length, 4);
});

test('tokenize, info and backend answer synchronously', () => {
  const ids = engine.tokenize('Once upon a time');
  assert.ok(ids.length >= 4 && ids.every((t) => Number.isInteger(t) && t >= 0 && t < 512));
  const info = engine.info();
  assert.equal(info.vocab, 512);
  assert.equal(info.layers, 5);
  assert.equal(engine.backend().name, 'cpu');
});

test('engine failures reject with the engine message, naming the file', async () => {
  const missing = path.join(tempDir(), 'missing.gguf');
  await assert.rejects(NativeEngine.load(missing), (e: unknown) => e instanceof Error && e.message.includes(missing));
});

test('a failed load keeps the loaded model usable', async () => {
  const h = new (loadAddon().EngineHandle)();
  await h.load(stories(), { backend: 'cpu', threads: 1 });
  await assert.rejects(h.load(path.join(tempDir(), 'missing.gguf')), /missing\.gguf/);
  assert.equal(h.loaded, true);
  assert.equal((await h.generate({ prompt: 'Once', ...greedy }, () => {})).tokens.length, 16);
  h.close();
  assert.equal(h.loaded, false);
});

test('a closed engine refuses work with a clear message', async () => {
  const e = await NativeEngine.load(stories(), { backend: 'cpu', threads: 1 });
  e.close();
  await assert.rejects(e.generate({ prompt: 'x' }), /generate: no model is loaded \(call load\(\) first\)/);
  assert.throws(() => e.info(), /info: no model is loaded/);
});

test('probeBackends reports the CPU and says why CUDA is or is not there', () => {
  const r = probeBackends();
  assert.equal(r.cpu.available, true);
  assert.ok(r.cpu.threads >= 1);
  assert.ok(r.cuda.available || r.cuda.reason.length > 0);
  assert.equal(typeof loadAddon().EngineHandle, 'function');
});
