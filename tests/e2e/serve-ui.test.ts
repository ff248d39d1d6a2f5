// End to end, as a user meets it: `keymate serve` with the real stories260K
// model and the keyboard simulator, the UI in headless Chromium. A keyboard
// press streams a reply into the page with its time to first token; the
// on-screen key does the same; unplugging the keyboard shows "disconnected"
// and plugging it back "connected"; without the token the server refuses.
// Every view is saved as a screenshot in dist/screenshots/ for a person to
// look at. The page must log no errors on the way (a CSP violation, a
// contract error and an exception all count).
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';

import type { Browser, Page } from 'playwright-core';

import { root, stories, tempDir } from '../support/repo';
import { findChromium, launchChromium, waitForAttribute, waitForText, waitUntil } from './browser';
import { Child } from './children';

const SCREENSHOTS = path.join(root, 'dist', 'screenshots', 'serve');
const NUMBER = /^\d+(\.\d+)?$/;
const VIEWS = ['companion', 'performance', 'telemetry', 'settings', 'device', 'models'] as const;

const chromiumPath = findChromium();
const skip = chromiumPath === null && process.env['CI'] === undefined ? 'no chromium (apt-get install chromium, or set KEYMATE_CHROMIUM)' : false;

async function shoot(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: path.join(SCREENSHOTS, `${name}.png`), fullPage: true });
}

async function show(page: Page, view: (typeof VIEWS)[number]): Promise<void> {
  await page.getByTestId(`nav-${view}`).click();
  await waitForAttribute(page, `nav-${view}`, 'aria-current', 'page');
}

test('keymate serve + simulator + Chromium: press, reply, timings, unplug, replug', { skip, timeout: 90_000 }, async () => {
  assert.ok(chromiumPath !== null, 'chromium not found (CI installs it: .ci/run)');
  assert.ok(fs.existsSync(path.join(root, 'dist', 'renderer', 'index.html')), 'the UI is not built (npm run build:renderer)');
  fs.rmSync(SCREENSHOTS, { recursive: true, force: true });
  fs.mkdirSync(SCREENSHOTS, { recursive: true });

  const dir = tempDir('keymate-e2e-');
  const link = path.join(dir, 'kbd');
  const env = { KEYMATE_HOME: path.join(dir, 'home') };
  const sim = await Child.simulator(link, env);
  let serve: Child | null = null;
  let browser: Browser | null = null;
  const pageErrors: string[] = [];
  let page: Page | null = null;
  try {
    const started = await Child.serve(['--model', stories(), '--device', link], env);
    serve = started.serve;
    const url = started.url;
    assert.match(url, /^http:\/\/127\.0\.0\.1:\d+\/\?token=[\w-]{20,}$/);

    // Without the token: refused, for the page and for the socket's path alike.
    const origin = new URL(url).origin;
    assert.equal((await fetch(`${origin}/`)).status, 401);
    assert.equal((await fetch(`${origin}/ws`)).status, 401);
    assert.equal((await fetch(`${origin}/?token=not-the-token`)).status, 403);

    browser = await launchChromium(chromiumPath);
    page = await browser.newPage({ viewport: { width: 1280, height: 860 } });
    page.on('pageerror', (e) => pageErrors.push(`exception: ${e.message}`));
    page.on('console', (m) => {
      if (m.type() === 'error' || m.type() === 'warning') pageErrors.push(`console.${m.type()}: ${m.text()}`);
    });
    await page.goto(url);
    await waitForText(page, 'device-status', "'connected'", (t) => t === 'connected', 15_000);
    await shoot(page, '00-companion-idle');

    // The keyboard's AI key: held while typing, released to send.
    sim.send('press');
    await waitForAttribute(page, 'ai-key', 'data-state', 'down', 5000);
    sim.send('type Once upon a time');
    sim.send('release');
    await waitForText(page, 'reply', 'a reply', (t) => t.trim().length > 0, 20_000);
    await waitForAttribute(page, 'reply', 'data-done', 'true', 20_000);
    const ttft = await waitForText(page, 'ttft-ms', 'a number', (t) => NUMBER.test(t), 5000);
    assert.ok(Number(ttft) > 0, `ttft-ms ${ttft}`);
    assert.match((await page.getByTestId('decode-tok-s').textContent()) ?? '', NUMBER);
    await waitForAttribute(page, 'ai-key', 'data-state', 'up', 5000);
    const firstPress = await page.getByTestId('reply').getAttribute('data-press');
    await shoot(page, '01-companion-reply');

    // The on-screen key, with the pointer: a second press, a second reply.
    const key = page.getByTestId('ai-key');
    await key.hover();
    await page.mouse.down();
    await waitForAttribute(page, 'ai-key', 'data-state', 'down', 5000);
    await page.mouse.up();
    const reply = page.getByTestId('reply');
    await waitUntil('a second reply', 20_000, async () => (await reply.getAttribute('data-press')) !== firstPress);
    await waitForAttribute(page, 'reply', 'data-done', 'true', 20_000);
    assert.ok(((await page.getByTestId('reply').textContent()) ?? '').trim().length > 0, 'the second reply is empty');

    // Every view, looked at in turn.
    for (const [i, view] of VIEWS.entries()) {
      await show(page, view);
      if (view === 'performance') await page.getByRole('cell', { name: 'screen' }).first().waitFor();
      if (view === 'telemetry') {
        const power = await page.getByTestId('gpu-power').textContent();
        if (power === 'n/a') await page.getByText('Telemetry not available').waitFor();
        else assert.match(power ?? '', NUMBER);
        assert.ok((await page.getByTestId('gpu-temp').count()) === 1);
      }
      if (view === 'device') await waitForText(page, 'device-firmware', 'a firmware version', (t) => /\d+\.\d+/.test(t));
      if (view === 'models') {
        // The name is the file's general.name ("tinyllamas-stories-260k"); the path is the file's.
        await waitForText(page, 'model-name', 'the model', (t) => t.trim() !== '');
        await page.getByText(/stories260K\.gguf/).first().waitFor();
      }
      await shoot(page, `${String(i + 2).padStart(2, '0')}-${view}`);
    }

    // Unplug and replug, watched from the Device view.
    await show(page, 'device');
    sim.send('unplug');
    await waitForText(page, 'device-status', "'disconnected'", (t) => t === 'disconnected', 10_000);
    await shoot(page, '08-device-unplugged');
    sim.send('replug');
    await waitForText(page, 'device-status', "'connected'", (t) => t === 'connected', 15_000);
    await show(page, 'companion');
    await shoot(page, '09-companion-replugged');

    assert.deepEqual(pageErrors, [], 'the page logged errors');
  } catch (e) {
    // What the page showed when it went wrong, next to the other screenshots.
    await page?.screenshot({ path: path.join(SCREENSHOTS, 'failure.png'), fullPage: true }).catch(() => undefined);
    const logs = [sim.log(), serve?.log() ?? '', pageErrors.length > 0 ? `--- page ---\n${pageErrors.join('\n')}` : ''].join('\n');
    throw new Error(`${e instanceof Error ? e.message : String(e)}\n${logs}`, { cause: e });
  } finally {
    await browser?.close();
    sim.send('quit');
    await Promise.all([serve?.stop(), sim.stop()]);
  }
});
