// A user's first minute, end to end: `keymate serve` with an EMPTY data folder
// (KEYMATE_HOME), the UI in headless Chromium. The first-run screen shows with
// the recommended models; downloads that cannot happen say so in one line (a
// host that does not resolve: offline; a server that refuses: retrying, then
// cancelled) while import stays offered; the real stories260K is imported by
// typing its path, which copies it into the library, loads it and shows the
// companion; the on-screen AI key gets a reply from the model. Screenshots go
// to dist/screenshots/first-run/.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';

import type { Browser, Page } from 'playwright-core';

import { root, stories, tempDir } from '../support/repo';
import { findChromium, launchChromium, waitForAttribute, waitForText, waitUntil } from './browser';
import { Child } from './children';

const SCREENSHOTS = path.join(root, 'dist', 'screenshots', 'first-run');
const chromiumPath = findChromium();
const skip = chromiumPath === null && process.env['CI'] === undefined ? 'no chromium (apt-get install chromium, or set KEYMATE_CHROMIUM)' : false;

/** `.invalid` never resolves (RFC 2606): the download meets "no network" at once, with or without one. */
const UNRESOLVABLE = 'https://keymate-first-run.invalid/resolve/main/model.gguf';
/** Nothing listens on the discard port: the server "refuses", which is retried. */
const REFUSING = 'http://127.0.0.1:9/resolve/main/refused.gguf';

async function shoot(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: path.join(SCREENSHOTS, `${name}.png`), fullPage: true });
}

/** The one-line state of the download named `name` (the URL's file name without .gguf). */
function progressOf(page: Page, name: string) {
  return page.locator(`li.download[data-name="${name}"] [data-testid="download-progress"]`);
}

async function downloadByUrl(page: Page, url: string): Promise<void> {
  await page.getByTestId('download-url').fill(url);
  await page.getByTestId('download-button').click();
}

test('first run with an empty data folder: recommended, offline, import, load, AI key, reply', { skip, timeout: 120_000 }, async () => {
  assert.ok(chromiumPath !== null, 'chromium not found (CI installs it: .ci/run)');
  assert.ok(fs.existsSync(path.join(root, 'dist', 'renderer', 'index.html')), 'the UI is not built (npm run build:renderer)');
  assert.ok(fs.existsSync(stories()), `the test model is missing: ${stories()}`);
  fs.rmSync(SCREENSHOTS, { recursive: true, force: true });
  fs.mkdirSync(SCREENSHOTS, { recursive: true });

  const home = path.join(tempDir('keymate-first-run-'), 'home');
  const { serve, url } = await Child.serve([], { KEYMATE_HOME: home });
  let browser: Browser | null = null;
  let page: Page | null = null;
  const pageErrors: string[] = [];
  try {
    browser = await launchChromium(chromiumPath);
    page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    page.on('pageerror', (e) => pageErrors.push(`exception: ${e.message}`));
    page.on('console', (m) => {
      if (m.type() === 'error' || m.type() === 'warning') pageErrors.push(`console.${m.type()}: ${m.text()}`);
    });
    await page.goto(url);

    // No model anywhere: the first-run screen, with the recommended models and their fit.
    await page.getByTestId('first-run').waitFor({ timeout: 15_000 });
    await page.locator('[data-testid^="recommended-"]').first().waitFor({ timeout: 15_000 });
    const firstRecommended = page.locator('[data-testid^="recommended-"]').first();
    assert.match((await firstRecommended.textContent()) ?? '', /parameters · .*(MiB|GiB)/, 'size and parameters');
    assert.match((await firstRecommended.textContent()) ?? '', /(Fits|Too big) (in every format|as )/, 'the fit, summed up');
    assert.match((await firstRecommended.textContent()) ?? '', /native(fits|too big)/, 'a verdict per weight format');
    await shoot(page, '00-first-run');

    // Offline: a host that does not resolve fails at once, in one line, and import is still there.
    await downloadByUrl(page, UNRESOLVABLE);
    const offline = progressOf(page, 'model');
    await offline.and(page.locator('[data-state="failed"]')).waitFor({ timeout: 20_000 });
    const line = (await offline.textContent()) ?? '';
    assert.match(line, /^Failed: .*keymate-first-run\.invalid/, line);
    assert.ok(!line.includes('\n'), 'one line');
    await page.getByTestId('offline').waitFor();
    assert.match((await page.getByTestId('offline').textContent()) ?? '', /import a GGUF from disk/i);
    assert.equal(await page.getByTestId('import-path').isEditable(), true);
    await shoot(page, '01-offline');

    // A server that refuses is retried with backoff, and the retry can be cancelled.
    await downloadByUrl(page, REFUSING);
    const refused = progressOf(page, 'refused');
    await refused.and(page.locator('[data-state="retrying"]')).waitFor({ timeout: 20_000 });
    assert.match((await refused.textContent()) ?? '', /^Attempt 1 of \d+ failed \(.*\); retrying in \d+ s$/);
    await shoot(page, '02-retrying');
    await page.locator('li.download[data-name="refused"]').getByRole('button', { name: 'Cancel' }).click();
    await refused.and(page.locator('[data-state="cancelled"]')).waitFor({ timeout: 10_000 });

    // Import by typing the path (the browser has no file dialog): copied, loaded, the companion.
    await page.getByTestId('import-path').fill(stories());
    await page.getByTestId('import-button').click();
    await page.getByTestId('first-run').waitFor({ state: 'detached', timeout: 30_000 });
    await page.getByTestId('ai-key').waitFor();
    const copied = path.join(home, 'models', 'stories260K.gguf');
    assert.ok(fs.existsSync(copied), `imported into the library: ${copied}`);
    assert.equal(fs.statSync(copied).size, fs.statSync(stories()).size);
    await shoot(page, '03-companion-loaded');

    // The AI key, on screen: a reply from the real model.
    await page.getByTestId('ai-key').hover();
    await page.mouse.down();
    await waitForAttribute(page, 'ai-key', 'data-state', 'down', 5000);
    await page.mouse.up();
    await waitForText(page, 'reply', 'a reply', (t) => t.trim().length > 0, 30_000);
    await waitForAttribute(page, 'reply', 'data-done', 'true', 30_000);
    await shoot(page, '04-companion-reply');

    // The Models view now lists it, with its header facts; the first run does not come back.
    await page.getByTestId('nav-models').click();
    await waitForText(page, 'model-name', 'the model', (t) => t.trim() !== '');
    await page.getByText(/llama · .* parameters · /).first().waitFor();
    await page.getByTestId('memory-plan').waitFor({ timeout: 10_000 });
    assert.match((await page.getByTestId('memory-plan').textContent()) ?? '', /^(Fits|Too big) /);
    await shoot(page, '05-models');
    await page.getByTestId('nav-companion').click();
    await waitUntil('the companion', 5000, async () => (await page?.getByTestId('first-run').count()) === 0 && (await page?.getByTestId('ai-key').count()) === 1);

    assert.deepEqual(pageErrors, [], 'the page logged errors');
  } catch (e) {
    await page?.screenshot({ path: path.join(SCREENSHOTS, 'failure.png'), fullPage: true }).catch(() => undefined);
    const logs = [serve.log(), pageErrors.length > 0 ? `--- page ---\n${pageErrors.join('\n')}` : ''].join('\n');
    throw new Error(`${e instanceof Error ? e.message : String(e)}\n${logs}`, { cause: e });
  } finally {
    await browser?.close();
    await serve.stop();
  }
});
