// The overlay for gamers in a browser (`keymate serve`'s /overlay), with the
// real stories260K model and the keyboard simulator: a press shows its
// question and the reply streaming in the overlay, which has nothing else.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';

import type { Browser } from 'playwright-core';

import { root, stories, tempDir } from '../support/repo';
import { findChromium, launchChromium, waitForAttribute, waitForText } from './browser';
import { Child } from './children';

const SCREENSHOTS = path.join(root, 'dist', 'screenshots', 'overlay');
const chromiumPath = findChromium();
const skip = chromiumPath === null && process.env['CI'] === undefined ? 'no chromium (apt-get install chromium, or set KEYMATE_CHROMIUM)' : false;

test('the overlay at /overlay shows the current turn as it streams', { skip, timeout: 90_000 }, async () => {
  assert.ok(chromiumPath !== null, 'chromium not found (CI installs it: .ci/run)');
  fs.mkdirSync(SCREENSHOTS, { recursive: true });
  const dir = tempDir('keymate-e2e-overlay-');
  const link = path.join(dir, 'kbd');
  const env = { KEYMATE_HOME: path.join(dir, 'home') };
  const sim = await Child.simulator(link, env);
  let serve: Child | null = null;
  let browser: Browser | null = null;
  const pageErrors: string[] = [];
  try {
    const started = await Child.serve(['--model', stories(), '--device', link], env);
    serve = started.serve;
    const url = started.url;
    const overlayUrl = url.replace('/?token=', '/overlay?token=');
    const origin = new URL(url).origin;
    assert.equal((await fetch(`${origin}/overlay`)).status, 401, 'the overlay needs the token like the app');

    browser = await launchChromium(chromiumPath);
    const page = await browser.newPage({ viewport: { width: 440, height: 240 } });
    page.on('pageerror', (e) => pageErrors.push(`exception: ${e.message}`));
    page.on('console', (m) => {
      if (m.type() === 'error') pageErrors.push(`console.error: ${m.text()}`);
    });
    await page.goto(overlayUrl);
    await page.getByTestId('overlay').waitFor();
    assert.equal(await page.getByTestId('nav-companion').count(), 0, 'the overlay is the turn only, not the app');

    sim.send('press');
    await waitForText(page, 'overlay-state', 'listening', (t) => t === 'listening', 5000);
    sim.send('type Once upon a time');
    sim.send('release');
    await waitForText(page, 'overlay-question', 'the question', (t) => t === 'Once upon a time', 10_000);
    await waitForText(page, 'reply', 'a reply', (t) => t.trim().length > 0, 20_000);
    await waitForAttribute(page, 'reply', 'data-done', 'true', 20_000);
    await waitForText(page, 'overlay-state', 'idle', (t) => t === 'idle', 5000);
    await page.screenshot({ path: path.join(SCREENSHOTS, 'overlay.png') });
    assert.deepEqual(pageErrors, [], 'the page logged errors');
  } catch (e) {
    throw new Error(`${e instanceof Error ? e.message : String(e)}\n${sim.log()}\n${serve?.log() ?? ''}\n${pageErrors.join('\n')}`, { cause: e });
  } finally {
    await browser?.close();
    sim.send('quit');
    await Promise.all([serve?.stop(), sim.stop()]);
  }
});
