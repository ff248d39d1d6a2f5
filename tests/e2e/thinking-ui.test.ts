// A reasoning model end to end: `keymate serve` with small random-weight qwen3
// models made by `keymate synth --chat-template` from real templates, the
// keyboard simulator and the UI in headless Chromium. With Qwen3.5's template
// (its generation prompt opens <think>) a key press streams the reply into the
// thinking block, apart from the answer, in the Companion and in the saved
// turn, and the overlay shows the answer alone; the Settings switch turns the
// thinking off, and then the reply is all answer, with no thinking block; the
// switch is kept across a restart, where Qwen3's own template with thinking
// off answers at once too. The weights are random, so the text is nonsense:
// the test looks at where it appears, not at what it says.
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';

import type { Browser, Page } from 'playwright-core';

import { bin, modelsDir, root, tempDir } from '../support/repo';
import { realTemplate } from '../support/templates';
import { findChromium, launchChromium, openConnectedPage, waitForAttribute, waitUntil } from './browser';
import { Child } from './children';

const SCREENSHOTS = path.join(root, 'dist', 'screenshots', 'thinking');
const chromiumPath = findChromium();
const skip = chromiumPath === null && process.env['CI'] === undefined ? 'no chromium (apt-get install chromium, or set KEYMATE_CHROMIUM)' : false;

/** `keymate synth` of the test-qwen3 shape carrying llama.cpp's template `name`, as a user would make it. */
function synth(dir: string, name: string): string {
  const template = path.join(dir, `${name}.jinja`);
  fs.writeFileSync(template, realTemplate(name));
  const out = path.join(dir, `${name}.gguf`);
  const args = ['synth', '--shape', 'test-qwen3', '--type', 'q8_0', '--seed', '1', '--chat-template', template, '--vocab', path.join(modelsDir(), 'vocab'), '--out', out];
  const r = spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8' });
  assert.equal(r.status, 0, `keymate synth: ${r.stderr}`);
  return out;
}

/** A keyboard press with typed text; resolves when the page shows the reply done and its turn saved. */
async function ask(page: Page, sim: Child, text: string): Promise<void> {
  const before = await page.getByTestId('turn-assistant').count();
  const last = await page.getByTestId('reply').getAttribute('data-press');
  sim.send('press');
  await waitForAttribute(page, 'ai-key', 'data-state', 'down', 5000);
  sim.send(`type ${text}`);
  sim.send('release');
  await waitUntil(`the reply to "${text}"`, 30_000, async () => (await page.getByTestId('reply').getAttribute('data-press')) !== last);
  await waitForAttribute(page, 'reply', 'data-done', 'true', 60_000);
  await waitUntil(`the reply to "${text}" saved in the conversation`, 10_000, async () => (await page.getByTestId('turn-assistant').count()) > before);
}

const text = async (page: Page, testId: string): Promise<string> => ((await page.getByTestId(testId).textContent()) ?? '').trim();

test('a reasoning model in the page: its thinking apart from its answer, and the Thinking switch', { skip, timeout: 240_000 }, async () => {
  assert.ok(chromiumPath !== null, 'chromium not found (CI installs it: .ci/run)');
  fs.rmSync(SCREENSHOTS, { recursive: true, force: true });
  fs.mkdirSync(SCREENSHOTS, { recursive: true });
  const dir = tempDir('keymate-e2e-thinking-');
  const link = path.join(dir, 'kbd');
  const env = { KEYMATE_HOME: path.join(dir, 'home') };
  const opensThinking = synth(dir, 'Qwen3.5-4B');
  const qwen3 = synth(dir, 'Qwen-Qwen3-0.6B');
  const sim = await Child.simulator(link, env);
  let serve: Child | null = null;
  let browser: Browser | null = null;
  let page: Page | null = null;
  const pageErrors: string[] = [];
  const open = (url: string): Promise<Page> => openConnectedPage(browser!, url, pageErrors);
  try {
    browser = await launchChromium(chromiumPath);
    let started = await Child.serve(['--model', opensThinking, '--device', link], env);
    serve = started.serve;
    page = await open(started.url);
    const overlay = await browser.newPage({ viewport: { width: 480, height: 320 } });
    await overlay.goto(started.url.replace('/?token=', '/overlay?token='));
    await overlay.getByTestId('overlay').waitFor();

    // Thinking on (the default): the prompt opened <think>, so the reply is thinking, shown apart.
    await ask(page, sim, 'What is two and two');
    const thinking = page.getByTestId('reply-thinking');
    assert.equal(await thinking.isVisible(), true, 'the thinking block shows');
    const thought = await text(page, 'reply-thinking');
    assert.ok(thought.startsWith('Thinking') && thought.length > 'Thinking'.length, thought);
    assert.ok(!thought.includes('<think>') && !thought.includes('</think>'), 'tags are never shown');
    assert.equal(await text(page, 'reply'), '', 'the model never closed its thinking: no answer');
    const turn = page.getByTestId('turn-assistant').last();
    assert.equal(await turn.getByTestId('turn-thinking').count(), 1, 'the saved turn keeps its thinking apart');
    assert.equal(((await turn.locator('.turn-text').textContent()) ?? '').trim(), '');
    // The overlay is the answer alone: no thinking block, none of the thinking's text.
    assert.equal(await overlay.getByTestId('reply-thinking').count(), 0);
    await waitForAttribute(overlay, 'reply', 'data-done', 'true', 10_000);
    assert.equal(await text(overlay, 'reply'), '');
    await page.screenshot({ path: path.join(SCREENSHOTS, '01-thinking.png'), fullPage: true });
    await overlay.close();

    // The switch, in Settings because this model's template reads enable_thinking: off, saved.
    await page.getByTestId('nav-settings').click();
    const toggle = page.getByTestId('setting-thinking');
    assert.equal(await toggle.isChecked(), true);
    await toggle.uncheck();
    await page.getByRole('button', { name: 'Save' }).click();
    await page.getByText('Saved.').waitFor({ timeout: 10_000 });
    await page.getByTestId('nav-companion').click();

    // Thinking off: the template closes the block at once, and the reply is all answer.
    await ask(page, sim, 'What is three and three');
    assert.notEqual(await text(page, 'reply'), '', 'the answer shows');
    assert.equal(await thinking.isVisible(), false, 'no thinking block');
    assert.equal(await page.getByTestId('turn-assistant').last().getByTestId('turn-thinking').count(), 0);
    await page.screenshot({ path: path.join(SCREENSHOTS, '02-thinking-off.png'), fullPage: true });

    // Restarted with Qwen3's own template: the switch was kept, and the reply is all answer.
    await page.close();
    await serve.stop();
    started = await Child.serve(['--model', qwen3, '--device', link], env);
    serve = started.serve;
    page = await open(started.url);
    await ask(page, sim, 'Say hello');
    assert.notEqual(await text(page, 'reply'), '', 'the answer shows');
    assert.equal(await page.getByTestId('reply-thinking').isVisible(), false, 'no thinking block');
    await page.getByTestId('nav-settings').click();
    assert.equal(await page.getByTestId('setting-thinking').isChecked(), false, 'the switch is kept like every setting');
    assert.deepEqual(pageErrors, [], 'the page logged errors');
  } catch (e) {
    await page?.screenshot({ path: path.join(SCREENSHOTS, 'failure.png'), fullPage: true }).catch(() => undefined);
    throw new Error(`${e instanceof Error ? e.message : String(e)}\n${serve?.log() ?? ''}\n${sim.log()}`, { cause: e });
  } finally {
    await browser?.close();
    await serve?.stop();
    await sim.stop();
  }
});
