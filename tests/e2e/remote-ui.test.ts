// End to end with a remote engine, as a user with a bigger machine elsewhere
// meets it: one `keymate serve` runs stories260K (the "remote", standing in
// for vLLM or Ollama on another box; scripts/reference/remote-llama-server.sh
// does the same with llama.cpp's server), and a second one, started with
// --remote pointing at the first's API, serves the UI in headless Chromium.
// The on-screen key's press is answered by the remote: the reply streams into
// the page with its time to first token, the Companion and Performance views
// say who answered, and the Models view lists the remote's models.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';

import type { Browser, Page } from 'playwright-core';

import { root, stories, tempDir } from '../support/repo';
import { findChromium, launchChromium, waitForAttribute, waitForText } from './browser';
import { Child } from './children';

const SCREENSHOTS = path.join(root, 'dist', 'screenshots', 'remote');
const NUMBER = /^\d+(\.\d+)?$/;

const chromiumPath = findChromium();
const skip = chromiumPath === null && process.env['CI'] === undefined ? 'no chromium (apt-get install chromium, or set KEYMATE_CHROMIUM)' : false;

test('keymate serve --remote + Chromium: the on-screen key is answered by the remote, with its TTFT', { skip, timeout: 90_000 }, async () => {
  assert.ok(chromiumPath !== null, 'chromium not found (CI installs it: .ci/run)');
  assert.ok(fs.existsSync(path.join(root, 'dist', 'renderer', 'index.html')), 'the UI is not built (npm run build:renderer)');
  fs.rmSync(SCREENSHOTS, { recursive: true, force: true });
  fs.mkdirSync(SCREENSHOTS, { recursive: true });
  const dir = tempDir('keymate-e2e-remote-');
  let remote: Child | null = null;
  let local: Child | null = null;
  let browser: Browser | null = null;
  let page: Page | null = null;
  const pageErrors: string[] = [];
  try {
    const r = await Child.serve(['--model', stories()], { KEYMATE_HOME: path.join(dir, 'remote') });
    remote = r.serve;
    const started = await Child.serve(['--remote', r.apiBase], { KEYMATE_HOME: path.join(dir, 'app'), KEYMATE_REMOTE_API_KEY: r.apiKey });
    local = started.serve;

    browser = await launchChromium(chromiumPath);
    page = await browser.newPage({ viewport: { width: 1280, height: 860 } });
    page.on('pageerror', (e) => pageErrors.push(`exception: ${e.message}`));
    page.on('console', (m) => {
      if (m.type() === 'error' || m.type() === 'warning') pageErrors.push(`console.${m.type()}: ${m.text()}`);
    });
    await page.goto(started.url);
    await waitForText(page, 'answering', 'the remote named', (t) => t.includes('stories260K') && t.includes('127.0.0.1'), 15_000);

    const key = page.getByTestId('ai-key');
    await key.hover();
    await page.mouse.down();
    await waitForAttribute(page, 'ai-key', 'data-state', 'down', 5000);
    await page.mouse.up();
    await waitForAttribute(page, 'reply', 'data-done', 'true', 20_000);
    assert.ok(((await page.getByTestId('reply').textContent()) ?? '').trim().length > 0, 'the reply is empty');
    const ttft = await waitForText(page, 'ttft-ms', 'a number', (t) => NUMBER.test(t), 5000);
    assert.ok(Number(ttft) > 0, `ttft-ms ${ttft}`);
    await page.screenshot({ path: path.join(SCREENSHOTS, '01-companion-remote-reply.png'), fullPage: true });

    await page.getByTestId('nav-performance').click();
    await waitForText(page, 'engine-remote', 'the remote named', (t) => t.includes('stories260K'), 5000);
    await page.getByRole('cell', { name: 'screen' }).first().waitFor();
    await page.screenshot({ path: path.join(SCREENSHOTS, '02-performance.png'), fullPage: true });

    await page.getByTestId('nav-models').click();
    await waitForText(page, 'remote-models', "the remote's models", (t) => t.includes('stories260K'), 5000);
    await page.screenshot({ path: path.join(SCREENSHOTS, '03-models.png'), fullPage: true });

    assert.deepEqual(pageErrors, [], 'the page logged errors');
  } catch (e) {
    await page?.screenshot({ path: path.join(SCREENSHOTS, 'failure.png'), fullPage: true }).catch(() => undefined);
    const logs = [remote?.log() ?? '', local?.log() ?? '', pageErrors.length > 0 ? `--- page ---\n${pageErrors.join('\n')}` : ''].join('\n');
    throw new Error(`${e instanceof Error ? e.message : String(e)}\n${logs}`, { cause: e });
  } finally {
    await browser?.close();
    await Promise.all([local?.stop(), remote?.stop()]);
  }
});
