// Headless Chromium for the end-to-end test: Debian's chromium driven by
// playwright-core (no browser download). Where it is missing the test skips,
// except under CI (.ci/run installs it), where a skip would hide a broken
// setup. waitForText polls a test id's text, so a failure says what the page
// showed instead of only "timed out".
import * as fs from 'node:fs';

import { chromium, type Browser, type Page } from 'playwright-core';

export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** KEYMATE_CHROMIUM, else Debian's /usr/bin/chromium; null when neither exists. */
export function findChromium(): string | null {
  const explicit = process.env['KEYMATE_CHROMIUM'];
  if (explicit !== undefined && explicit !== '') return explicit;
  for (const candidate of ['/usr/bin/chromium', '/usr/bin/chromium-browser']) {
    if (fs.existsSync(candidate)) return candidate;
  }
  return null;
}

export function launchChromium(executablePath: string): Promise<Browser> {
  return chromium.launch({ executablePath, args: CHROMIUM_ARGS, timeout: 30_000 });
}

/**
 * A page of `url` (the app), once its keyboard shows as connected; the page's
 * exceptions and console errors are appended to `errors`, which a test
 * asserts empty at its end.
 */
export async function openConnectedPage(browser: Browser, url: string, errors: string[]): Promise<Page> {
  const p = await browser.newPage({ viewport: { width: 1280, height: 1000 } });
  p.on('pageerror', (e) => errors.push(`exception: ${e.message}`));
  p.on('console', (m) => {
    if (m.type() === 'error') errors.push(`console.error: ${m.text()}`);
  });
  await p.goto(url);
  await waitForText(p, 'device-status', "'connected'", (t) => t === 'connected', 15_000);
  return p;
}

/** Polls the text of [data-testid=id] until ok(text); returns it. */
export async function waitForText(page: Page, testId: string, what: string, ok: (text: string) => boolean, timeoutMs = 10_000): Promise<string> {
  const locator = page.getByTestId(testId);
  const deadline = Date.now() + timeoutMs;
  let last = '(element not found)';
  for (;;) {
    if ((await locator.count()) === 1) {
      last = (await locator.textContent()) ?? '';
      if (ok(last)) return last;
    } else if ((await locator.count()) > 1) {
      throw new Error(`more than one element has data-testid="${testId}"`);
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${testId} to show ${what}; it shows '${last}'`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Polls an attribute of [data-testid=id] until it equals `value`. */
export async function waitForAttribute(page: Page, testId: string, name: string, value: string, timeoutMs = 10_000): Promise<void> {
  const locator = page.getByTestId(testId);
  const deadline = Date.now() + timeoutMs;
  let last: string | null = null;
  for (;;) {
    if ((await locator.count()) === 1) {
      last = await locator.getAttribute(name);
      if (last === value) return;
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${testId}[${name}] to be '${value}'; it is '${String(last)}'`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** Polls cond until it holds. */
export async function waitUntil(what: string, timeoutMs: number, cond: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}
