// The UI in headless Chromium against a scripted host (scripted-host.ts):
// the states a CPU-only machine cannot show with the real host (live GPU
// telemetry charts, a profiled stage breakdown, a bench and its bound), the
// requests the page sends for each way of pressing the AI key, keyboard-only
// navigation, a settings save, a model selection, a host notice, and a host
// message that breaks the contract (reported, not applied). Screenshots of
// every view go to dist/screenshots/scripted/. A second run points the app at
// a remote server and turns its own API on, as a user does in Settings.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';

import type { Browser, Page } from 'playwright-core';

import { DEFAULT_SETTINGS, type ApiServerStatus, type RemoteStatus, type Settings, type SettingsPatch } from '../../common/contract';
import { root } from '../support/repo';
import { findChromium, launchChromium, openConnectedPage, waitForAttribute, waitForText, waitUntil } from './browser';
import { ScriptedHost } from './scripted-host';
import { MODEL_PATH, NOW, appState, bench, engine, history, listing, modelPlan, recommended, records, telemetry } from './scripted-fixtures';

const SCREENSHOTS = path.join(root, 'dist', 'screenshots', 'scripted');
const chromiumPath = findChromium();
const skip = chromiumPath === null && process.env['CI'] === undefined ? 'no chromium (apt-get install chromium, or set KEYMATE_CHROMIUM)' : false;

test('the UI against a scripted host: every view with data, every way to press, keyboard only', { skip, timeout: 60_000 }, async () => {
  assert.ok(chromiumPath !== null, 'chromium not found (CI installs it: .ci/run)');
  const rendererDir = path.join(root, 'dist', 'renderer');
  assert.ok(fs.existsSync(path.join(rendererDir, 'index.html')), 'the UI is not built (npm run build:renderer)');
  fs.rmSync(SCREENSHOTS, { recursive: true, force: true });
  fs.mkdirSync(SCREENSHOTS, { recursive: true });

  let settings: Settings = appState().settings;
  const session = (state: 'listening' | 'thinking') => ({ state, press_id: 'p2000', typed: '', message: null });
  const host = await ScriptedHost.start(rendererDir, {
    'state.get': () => ({ ...appState(), settings }),
    'performance.list': () => ({ records: records(40) }),
    'history.list': () => ({ entries: history }),
    'telemetry.recent': () => ({ samples: Array.from({ length: 120 }, (_, i) => telemetry(NOW - (120 - i) * 1000, i)) }),
    'models.list': () => listing,
    'models.recommended': () => recommended,
    'models.plan': () => modelPlan,
    'performance.bench': () => bench,
    'key.press': () => session('listening'),
    'key.release': () => session('thinking'),
    'settings.set': (p) => (settings = { ...settings, ...(p as { patch: Partial<Settings> }).patch }),
    'models.select': () => ({ ...engine, state: 'loading', model: null, backend: null, message: 'loading Qwen2.5-0.5B-Instruct-Q4_K_M' }),
  });
  let browser: Browser | null = null;
  const pageErrors: string[] = [];
  let page: Page | null = null;
  const shoot = (name: string) => page?.screenshot({ path: path.join(SCREENSHOTS, `${name}.png`), fullPage: true });
  try {
    browser = await launchChromium(chromiumPath);
    page = await browser.newPage({ viewport: { width: 1280, height: 860 } });
    page.on('pageerror', (e) => pageErrors.push(`exception: ${e.message}`));
    page.on('console', (m) => {
      if (m.type() === 'error' || m.type() === 'warning') pageErrors.push(`console.${m.type()}: ${m.text()}`);
    });
    await page.goto(host.url);
    await waitForText(page, 'device-status', "'connected'", (t) => t === 'connected');
    await page.getByText('settings.json could not be read').waitFor();

    // A reply streaming in, then done.
    host.emit('session', { state: 'replying', press_id: 'p2000', typed: '', message: null });
    host.emit('reply.start', { press_id: 'p2000', source: 'keyboard', prompt: 'Summarise this paragraph in one line', t_ms: NOW });
    const words = 'Keymate answers on your own GPU, before your finger has left the key'.split(/(?= )/);
    words.forEach((text, index) => host.emit('reply.token', { press_id: 'p2000', index, text, t_ms: 7 + index * 6 }));
    await waitForText(page, 'reply', 'the streamed words', (t) => t === words.join(''));
    await waitForAttribute(page, 'reply', 'data-done', 'false');
    await shoot('01-companion-streaming');
    const done = records(1)[0];
    assert.ok(done !== undefined);
    const timings = { ...done.timings, ttft_ms: 7.42 };
    host.emit('reply.done', { press_id: 'p2000', completion: words.join('') + '.', thinking: '', stop: 'eos', timings });
    // As the host does after every reply: its performance record and history entry.
    host.emit('performance', { ...done, press_id: 'p2000', t_ms: NOW, timings });
    host.emit('history', { press_id: 'p2000', t_ms: NOW, source: 'keyboard', prompt: 'Summarise this paragraph in one line', completion: words.join('') + '.', stop: 'eos', model: done.model, ttft_ms: 7.42, tokens: timings.tokens });
    host.emit('session', { state: 'idle', press_id: 'p2000', typed: '', message: null });
    await waitForText(page, 'ttft-ms', '7.42', (t) => t === '7.42');
    await shoot('02-companion-done');

    // The on-screen key from the keyboard: focus it, hold Space; then the window shortcut.
    await page.getByTestId('ai-key').focus();
    await page.keyboard.down('Space');
    await waitForAttribute(page, 'ai-key', 'data-state', 'down');
    await page.keyboard.up('Space');
    await waitForAttribute(page, 'ai-key', 'data-state', 'up');
    await page.keyboard.down('Control');
    await page.keyboard.down('Shift');
    await page.keyboard.down('Space');
    await page.keyboard.up('Space');
    await page.keyboard.up('Shift');
    await page.keyboard.up('Control');
    await waitUntil('four key requests', 5000, () => Promise.resolve(host.requests.filter((r) => r.name.startsWith('key.')).length === 4));
    assert.deepEqual(
      host.requests.filter((r) => r.name.startsWith('key.')),
      [
        { name: 'key.press', payload: { source: 'screen' } },
        { name: 'key.release', payload: { source: 'screen' } },
        { name: 'key.press', payload: { source: 'shortcut' } },
        { name: 'key.release', payload: { source: 'shortcut' } },
      ],
    );

    // Keyboard only from here: Alt+digit switches views.
    await page.keyboard.press('Alt+2');
    await waitForAttribute(page, 'nav-performance', 'aria-current', 'page');
    await page.getByRole('button', { name: 'Measure the model' }).click();
    await page.getByText('of the bound').waitFor();
    await shoot('03-performance');

    await page.keyboard.press('Alt+3');
    await waitForText(page, 'gpu-power', 'a number', (t) => /^\d+\.\d$/.test(t));
    assert.match((await page.getByTestId('gpu-temp').textContent()) ?? '', /^\d+$/);
    for (let i = 1; i <= 5; i++) host.emit('telemetry', telemetry(NOW + i * 1000, 120 + i));
    await waitForText(page, 'gpu-power', 'the newest sample', (t) => t === (telemetry(0, 125).power_w ?? NaN).toFixed(1));
    assert.equal(await page.locator('.uplot canvas').count(), 4, 'four charts');
    await shoot('04-telemetry');

    await page.keyboard.press('Alt+4');
    const maxTokens = page.getByLabel('Max tokens');
    await maxTokens.fill('0');
    await page.getByText('Fix the marked fields to save.').waitFor();
    assert.equal(await page.getByRole('button', { name: 'Save' }).isDisabled(), true);
    await shoot('05-settings-invalid');
    await maxTokens.fill('64');
    await page.getByRole('button', { name: 'Save' }).click();
    await page.getByText('Saved.').waitFor();
    assert.deepEqual(host.sent('settings.set'), [{ patch: { max_tokens: 64 } }]);
    assert.equal(settings.max_tokens, 64);
    assert.notEqual(DEFAULT_SETTINGS.max_tokens, 64);
    await shoot('06-settings');

    await page.keyboard.press('Alt+5');
    await waitForText(page, 'device-frame-errors', 'the error count', (t) => t.startsWith('3'));
    await waitForText(page, 'device-clock', 'the clock', (t) => /^round trip 0\.18 ms \(key latencies ±0\.09 ms\)$/.test(t));
    await shoot('07-device');

    await page.keyboard.press('Alt+6');
    await waitForText(page, 'model-name', 'the model', (t) => t === 'Llama-3.2-1B-Instruct-Q8_0');
    // The library's downloads and fits, as a GPU machine sees them.
    await waitForText(page, 'memory-plan', 'the plan', (t) => t.startsWith('Fits in every format'));
    await page.getByText('Fits as native, int4-g128, nf4-g128').waitFor();
    await page.getByText(/^Attempt 1 of 6 failed \(HTTP 503 from huggingface\.co\); retrying in 2 s$/).waitFor();
    await shoot('08-models');
    // One list: the library's two and the command line's model outside it, each loadable, with what its header says.
    await page.getByText(/stories260K\.gguf · .* · outside the library, given with --model$/).waitFor();
    await page.getByText(/^llama · 293\.0K parameters · f32 ×48 /).waitFor();
    assert.equal(await page.getByRole('button', { name: /^Load / }).count(), 3);
    const other = listing.models[1];
    assert.ok(other !== undefined);
    await page.getByRole('button', { name: `Load ${other.name}`, exact: true }).click();
    await waitUntil('a models.select request', 5000, () => Promise.resolve(host.sent('models.select').length === 1));
    assert.deepEqual(host.sent('models.select'), [{ path: other.path }]);
    assert.notEqual(other.path, MODEL_PATH);
    await page.getByText('Loading… loading Qwen2.5').waitFor();

    // The host breaks the contract: the page says so and keeps its state.
    host.sendRaw(JSON.stringify({ kind: 'event', name: 'device', payload: { state: 'on fire' } }));
    await page.getByText("Ignored a message from the host: contract: event 'device'").waitFor();
    assert.equal(await page.getByTestId('device-status').textContent(), 'connected');

    // Unplugged, as the real host reports it.
    host.emit('device', { ...appState().device, state: 'disconnected', connected: false, device: null, reason: 'the keyboard was unplugged', attempt: 2, retry_in_ms: 400 });
    await page.keyboard.press('Alt+5');
    await waitForText(page, 'device-status', "'disconnected'", (t) => t === 'disconnected');
    await shoot('09-device-unplugged');

    // Telemetry without NVML: the reason, not empty charts.
    host.emit('telemetry', { available: false, t_ms: NOW + 10_000, reason: 'NVML not found: libnvidia-ml.so.1 is missing (no NVIDIA driver)' });
    await page.keyboard.press('Alt+3');
    await page.getByText('libnvidia-ml.so.1 is missing').waitFor();
    assert.equal(await page.getByTestId('gpu-power').textContent(), 'n/a');
    await shoot('10-telemetry-unavailable');
    // The CPU does the work: its own numbers under its own ids; the GPU's places keep saying n/a.
    const cpu = { temp_c: 61, temp_source: 'thermal_zone2 (x86_pkg_temp)', power_w: 18.46, power_domains: ['intel-rapl:0 (package-0)'], reason: '' };
    host.emit('telemetry', { available: false, t_ms: NOW + 11_000, reason: 'NVML not found: libnvidia-ml.so.1 is missing (no NVIDIA driver)', cpu });
    await waitForText(page, 'cpu-power', 'the CPU package power', (t) => t === '18.5');
    assert.equal(await page.getByTestId('cpu-temp').textContent(), '61');
    assert.equal(await page.getByTestId('gpu-power').textContent(), 'n/a');
    assert.equal(await page.getByTestId('gpu-temp').textContent(), 'n/a');
    await shoot('11-telemetry-cpu');

    // The host goes away and comes back: the page says so, reconnects, and fetches the state again.
    const fetches = host.sent('state.get').length;
    host.dropConnections();
    await page.getByText('Lost the connection to the host').waitFor();
    await waitUntil('the page to fetch the state again', 10_000, () => Promise.resolve(host.sent('state.get').length > fetches));
    await page.getByText('Lost the connection to the host').waitFor({ state: 'detached' });

    assert.deepEqual(pageErrors, [], 'the page logged errors');
  } catch (e) {
    await page?.screenshot({ path: path.join(SCREENSHOTS, 'failure.png'), fullPage: true }).catch(() => undefined);
    throw new Error(`${e instanceof Error ? e.message : String(e)}\n--- page ---\n${pageErrors.join('\n')}\n--- requests ---\n${JSON.stringify(host.requests)}`, { cause: e });
  } finally {
    await browser?.close();
    await host.close();
  }
});

test('the remote engine and the API in the UI: switch, address, key, models, and back to the local engine in one click', { skip, timeout: 60_000 }, async () => {
  assert.ok(chromiumPath !== null, 'chromium not found (CI installs it: .ci/run)');
  const rendererDir = path.join(root, 'dist', 'renderer');
  assert.ok(fs.existsSync(path.join(rendererDir, 'index.html')), 'the UI is not built (npm run build:renderer)');
  const shots = path.join(SCREENSHOTS, 'remote');
  fs.mkdirSync(shots, { recursive: true });

  const URL_ = 'http://gpu-box:8000/v1';
  const served = ['qwen3-32b', 'llama-3.3-70b-instruct'];
  let settings: Settings = appState().settings;
  let remote: RemoteStatus = appState().remote;
  let api: ApiServerStatus = appState().api;
  let keys = 0;
  // The host's side, as far as the UI can tell: it checks the address, asks
  // the server when the remote is on, and says so in 'remote' and 'api' events.
  const remoteFor = (r: Settings['remote']): RemoteStatus =>
    r.enabled ? { state: 'ready', url: r.url, model: r.model !== '' ? r.model : (served[0] ?? null), models: served, key: remote.key, message: null } : { ...appState().remote, key: remote.key };
  const host: ScriptedHost = await ScriptedHost.start(rendererDir, {
    'state.get': () => ({ ...appState(), settings, remote, api }),
    'performance.list': () => ({ records: records(5) }),
    'telemetry.recent': () => ({ samples: [] }),
    'models.list': () => listing,
    'models.recommended': () => recommended,
    'models.plan': () => modelPlan,
    'settings.set': (p) => {
      const patch = (p as { patch: SettingsPatch }).patch;
      if (patch.remote?.enabled === true && !/^https?:\/\/[^\s/]+/.test(patch.remote.url)) throw new Error(`settings: remote.url: "${patch.remote.url}" is not an http:// or https:// URL`);
      settings = { ...settings, ...patch };
      if (patch.remote !== undefined) host.emit('remote', (remote = remoteFor(settings.remote)));
      if (patch.api !== undefined) {
        api = settings.api.enabled ? { ...api, state: 'listening', api_base: `http://127.0.0.1:${settings.api.port}/v1` } : { ...api, state: 'off', api_base: null };
        host.emit('api', api);
      }
      return settings;
    },
    'remote.check': () => (remote = remoteFor(settings.remote)),
    'remote.key.set': (p) => (remote = { ...remote, key: (p as { key: string }).key === '' ? 'none' : 'saved' }),
    'api.key.renew': () => (api = { ...api, key: `km-renewed-${++keys}` }),
  });
  let browser: Browser | null = null;
  const pageErrors: string[] = [];
  let page: Page | null = null;
  const shoot = (name: string) => page?.screenshot({ path: path.join(shots, `${name}.png`), fullPage: true });
  try {
    browser = await launchChromium(chromiumPath);
    page = await openConnectedPage(browser, host.url, pageErrors);
    await page.keyboard.press('Alt+4');
    await waitForAttribute(page, 'remote-status', 'data-state', 'off');

    // An address the host refuses: its one line, as the form shows every refusal, and the switch stays off.
    await page.getByTestId('remote-url').fill('gpu box');
    await page.getByTestId('remote-enabled').click();
    await page.getByText('Not saved: settings: remote.url: "gpu box" is not an http:// or https:// URL').waitFor();
    assert.equal(await page.getByTestId('remote-enabled').isChecked(), false);

    // On, with the address as typed: one settings.set carrying the whole remote object.
    await page.getByTestId('remote-url').fill(URL_);
    await page.getByTestId('remote-enabled').click();
    await waitForAttribute(page, 'remote-status', 'data-state', 'ready');
    assert.deepEqual(host.sent('settings.set').at(-1), { patch: { remote: { enabled: true, url: URL_, model: '' } } });
    assert.equal(await page.getByTestId('remote-enabled').isChecked(), true);
    await waitForText(page, 'remote-status', 'the model and the server', (t) => t.includes('qwen3-32b') && t.includes('gpu-box:8000'));
    await page.locator('.statusbar').getByText('qwen3-32b').waitFor();
    assert.equal(await page.getByText('1 unsaved change').count(), 0, 'the switch leaves no unsaved change behind');

    // The key: sent once, the field emptied, and only where it comes from shown.
    await page.getByTestId('remote-key').fill('sk-remote-secret');
    await page.getByTestId('remote-key-save').click();
    await waitUntil('a remote.key.set request', 5000, () => Promise.resolve(host.sent('remote.key.set').length === 1));
    assert.deepEqual(host.sent('remote.key.set'), [{ key: 'sk-remote-secret' }]);
    await page.getByText('Now: key saved').waitFor();
    assert.equal(await page.getByTestId('remote-key').inputValue(), '');
    assert.equal((await page.content()).includes('sk-remote-secret'), false, 'the key is nowhere on the page');
    await page.getByTestId('remote-check').click();
    await waitUntil('a remote.check request', 5000, () => Promise.resolve(host.sent('remote.check').length === 1));
    await shoot('01-settings-remote');

    // The Models view: the server's models, the one in use marked; another is one click.
    await page.keyboard.press('Alt+6');
    const card = page.getByTestId('remote-models');
    await card.locator('li.selected[data-model="qwen3-32b"]').waitFor();
    await card.getByRole('button', { name: 'Use llama-3.3-70b-instruct' }).click();
    await card.locator('li.selected[data-model="llama-3.3-70b-instruct"]').waitFor();
    assert.deepEqual(host.sent('settings.set').at(-1), { patch: { remote: { enabled: true, url: URL_, model: 'llama-3.3-70b-instruct' } } });
    await shoot('02-models-remote');

    // Who answers, where the UI says it.
    await page.keyboard.press('Alt+1');
    await waitForText(page, 'answering', 'the remote model', (t) => t.includes('llama-3.3-70b-instruct on gpu-box:8000'));
    await page.keyboard.press('Alt+2');
    await waitForText(page, 'engine-remote', 'the remote model', (t) => t.includes('llama-3.3-70b-instruct on gpu-box:8000'));
    assert.equal(await page.getByTestId('engine-backend').count(), 0);

    // The app's API: on at once, its address and key to copy; a new key only once confirmed.
    await page.keyboard.press('Alt+4');
    await page.getByTestId('api-enabled').click();
    await waitForText(page, 'api-base', 'the loopback address', (t) => t === 'http://127.0.0.1:11435/v1');
    assert.deepEqual(host.sent('settings.set').at(-1), { patch: { api: { enabled: true, port: 11435, lan: false } } });
    assert.equal(await page.getByTestId('api-key').textContent(), appState().api.key);
    await page.getByTestId('api-renew').click();
    await page.getByText('Replace the key?').waitFor();
    assert.equal(host.sent('api.key.renew').length, 0, 'nothing renewed before the answer');
    await shoot('03-settings-api-confirm');
    await page.getByTestId('api-renew-confirm').click();
    await waitForText(page, 'api-key', 'the new key', (t) => t === 'km-renewed-1');
    await shoot('04-settings-api');

    // Back to the local engine: one click, the address and model kept for next time.
    await page.getByTestId('remote-enabled').click();
    await waitForAttribute(page, 'remote-status', 'data-state', 'off');
    assert.deepEqual(host.sent('settings.set').at(-1), { patch: { remote: { enabled: false, url: URL_, model: 'llama-3.3-70b-instruct' } } });
    await page.locator('.statusbar').getByText('Llama-3.2-1B-Instruct-Q8_0').waitFor();
    assert.equal(await page.getByTestId('remote-url').inputValue(), URL_);
    await page.keyboard.press('Alt+6');
    await page.getByTestId('model-name').waitFor();
    assert.equal(await page.getByTestId('remote-models').count(), 0);

    assert.deepEqual(pageErrors, [], 'the page logged errors');
  } catch (e) {
    await page?.screenshot({ path: path.join(shots, 'failure.png'), fullPage: true }).catch(() => undefined);
    throw new Error(`${e instanceof Error ? e.message : String(e)}\n--- page ---\n${pageErrors.join('\n')}\n--- requests ---\n${JSON.stringify(host.requests)}`, { cause: e });
  } finally {
    await browser?.close();
    await host.close();
  }
});
