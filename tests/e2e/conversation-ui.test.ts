// A conversation end to end, as a user lives it: `keymate serve` with the
// real stories260K model (context 512), the keyboard simulator and the UI in
// headless Chromium. Two typed presses give two questions and two replies in
// the page, the second press read the first one's prompt from the cache;
// after the server is stopped and started again on the same data folder the
// conversation is there and the next presses continue it, past the context,
// each with a reply.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';

import type { Browser, Page } from 'playwright-core';

import { root, stories, tempDir } from '../support/repo';
import { findChromium, launchChromium, openConnectedPage, waitForAttribute, waitForText, waitUntil } from './browser';
import { Child } from './children';

const SCREENSHOTS = path.join(root, 'dist', 'screenshots', 'conversation');
const chromiumPath = findChromium();
const skip = chromiumPath === null && process.env['CI'] === undefined ? 'no chromium (apt-get install chromium, or set KEYMATE_CHROMIUM)' : false;

function serveOn(link: string, env: NodeJS.ProcessEnv): Promise<{ serve: Child; url: string }> {
  return Child.serve(['--model', stories(), '--device', link], env);
}

/** Holds the keyboard's key, types, releases; resolves when the page shows that press's reply done and its turn saved. */
async function ask(page: Page, sim: Child, text: string): Promise<void> {
  const before = await page.getByTestId('turn-assistant').count();
  const last = await page.getByTestId('reply').getAttribute('data-press');
  sim.send('press');
  await waitForAttribute(page, 'ai-key', 'data-state', 'down', 5000);
  sim.send(`type ${text}`);
  sim.send('release');
  await waitUntil(`the reply to "${text}"`, 30_000, async () => (await page.getByTestId('reply').getAttribute('data-press')) !== last);
  await waitForAttribute(page, 'reply', 'data-done', 'true', 30_000);
  await waitUntil(`the reply to "${text}" saved in the conversation`, 10_000, async () => (await page.getByTestId('turn-assistant').count()) > before);
}

const numberOf = async (page: Page, id: string): Promise<number> => Number(await waitForText(page, id, 'a number', (t) => /^\d+$/.test(t), 5000));

test('a conversation in the page: continued from the cache, kept across a restart, past the context', { skip, timeout: 180_000 }, async () => {
  assert.ok(chromiumPath !== null, 'chromium not found (CI installs it: .ci/run)');
  fs.rmSync(SCREENSHOTS, { recursive: true, force: true });
  fs.mkdirSync(SCREENSHOTS, { recursive: true });
  const dir = tempDir('keymate-e2e-chat-');
  const link = path.join(dir, 'kbd');
  const env = { KEYMATE_HOME: path.join(dir, 'home') };
  const sim = await Child.simulator(link, env);
  let serve: Child | null = null;
  let browser: Browser | null = null;
  let page: Page | null = null;
  const pageErrors: string[] = [];
  const open = (url: string): Promise<Page> => openConnectedPage(browser!, url, pageErrors);
  try {
    browser = await launchChromium(chromiumPath);
    let started = await serveOn(link, env);
    serve = started.serve;
    page = await open(started.url);

    await ask(page, sim, 'Once upon a time');
    const firstPrompt = await numberOf(page, 'prompt-tokens');
    await ask(page, sim, 'The little dog');
    const secondCached = await numberOf(page, 'prompt-cached');
    const secondPrompt = await numberOf(page, 'prompt-tokens');
    assert.ok(secondCached >= firstPrompt, `second press: ${secondCached} tokens from the cache, first prompt ${firstPrompt}`);
    assert.equal(await page.getByTestId('turn-user').count(), 2);
    assert.equal(await page.getByTestId('turn-assistant').count(), 2);
    const said = await page.getByTestId('turn-user').allTextContents();
    assert.ok(said[0]!.includes('Once upon a time') && said[1]!.includes('The little dog'), said.join(' | '));
    await page.screenshot({ path: path.join(SCREENSHOTS, '01-two-turns.png'), fullPage: true });

    // Stopped and started again on the same data folder: the conversation is there.
    await page.close();
    await serve.stop();
    started = await serveOn(link, env);
    serve = started.serve;
    page = await open(started.url);
    await waitUntil('the conversation after the restart', 10_000, async () => (await page!.getByTestId('turn-assistant').count()) === 2);
    assert.equal(await page.getByTestId('turn-user').count(), 2);

    // The conversation's K/V was saved at the stop and loaded back: the first press after the
    // restart prefills only its own turn.
    await ask(page, sim, 'The cat');
    const cachedAfterRestart = await numberOf(page, 'prompt-cached');
    assert.ok(cachedAfterRestart >= secondPrompt, `after the restart ${cachedAfterRestart} tokens from the cache; the last prompt had ${secondPrompt}`);

    // Four more presses of up to 128 tokens each: past the 512-token context, and every one answered.
    for (const text of ['A big tree', 'The sun', 'A red ball', 'The end']) await ask(page, sim, text);
    assert.equal(await page.getByTestId('turn-user').count(), 7);
    assert.equal(await page.getByTestId('turn-assistant').count(), 7);
    assert.equal(await page.getByTestId('turn-notice').count(), 1, 'the user is told once that old turns left the context');
    await page.screenshot({ path: path.join(SCREENSHOTS, '02-past-the-context.png'), fullPage: true });

    // A swipe: the last reply written again, both versions kept, either shown.
    const lastReply = async (): Promise<string> => ((await page!.getByTestId('turn-assistant').last().locator('.turn-text').textContent()) ?? '');
    const before = await lastReply();
    await page.getByTestId('regenerate').click();
    await waitForText(page, 'version-of', 'two versions', (t) => t === '2/2', 30_000);
    assert.equal(await page.getByTestId('turn-assistant').count(), 7, 'a swipe adds no turn');
    await page.getByTestId('version-prev').click();
    await waitForText(page, 'version-of', 'the first version', (t) => t === '1/2', 5000);
    assert.equal(await lastReply(), before);

    // A new conversation from the page.
    await page.getByTestId('new-conversation').click();
    await waitUntil('an empty conversation', 5000, async () => (await page!.getByTestId('turn-user').count()) === 0);

    // Chats: both conversations, search, rename, delete and undo, and back to the first one.
    await page.getByTestId('nav-chats').click();
    await waitUntil('two conversations listed', 5000, async () => (await page!.getByTestId('chat').count()) === 2);
    await page.getByTestId('chats-search').fill('little dog');
    await waitUntil('one conversation found', 5000, async () => (await page!.getByTestId('chat').count()) === 1);
    const row = page.getByTestId('chat').first();
    await row.getByTestId('chat-rename').click();
    await row.getByTestId('chat-title-input').fill('Dog stories');
    await row.getByTestId('chat-title-input').press('Enter');
    await page.getByText('Dog stories').waitFor();
    await page.getByTestId('chats-search').fill('');
    await waitUntil('two conversations listed', 5000, async () => (await page!.getByTestId('chat').count()) === 2);
    await page.screenshot({ path: path.join(SCREENSHOTS, '03-chats.png'), fullPage: true });
    await page.getByTestId('chat').filter({ hasText: 'Dog stories' }).getByTestId('chat-delete').click();
    await waitUntil('one conversation left', 5000, async () => (await page!.getByTestId('chat').count()) === 1);
    await page.getByTestId('chats-undo').click();
    await waitUntil('the deleted one back', 5000, async () => (await page!.getByTestId('chat').count()) === 2);
    await page.getByTestId('chat').filter({ hasText: 'Dog stories' }).getByTestId('chat-open').click();
    await waitForAttribute(page, 'nav-companion', 'aria-current', 'page', 5000);
    await waitUntil('the conversation opened', 5000, async () => (await page!.getByTestId('turn-user').count()) === 7);
    assert.deepEqual(pageErrors, [], 'the page logged errors');
  } catch (e) {
    await page?.screenshot({ path: path.join(SCREENSHOTS, 'failure.png'), fullPage: true }).catch(() => undefined);
    const logs = [sim.log(), serve?.log() ?? '', pageErrors.join('\n')].join('\n');
    throw new Error(`${e instanceof Error ? e.message : String(e)}\n${logs}`, { cause: e });
  } finally {
    await browser?.close();
    sim.send('quit');
    await Promise.all([serve?.stop(), sim.stop()]);
  }
});
