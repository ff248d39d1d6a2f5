// The conversation K/V folder: a conversation's file written when it is
// left, loaded when it is entered again, the least recently used ones
// removed past the budget (never the one just written), and a crashed
// save's temporary file cleared at start. A real engine (stories260K).
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';

import { DEFAULT_SETTINGS } from '../../../../common/contract';
import { EngineService, engineConfig } from '../../../../electron/host/services/engine-service';
import { HostEvents } from '../../../../electron/host/host-events';
import { ConversationCache } from '../../../../electron/host/session/conversation-cache';
import { stories, tempDir } from '../../../support/repo';

test('files written on leaving, the oldest removed past the budget, a stale temporary file cleared', async (t) => {
  const engine = new EngineService(new HostEvents(() => undefined));
  t.after(() => engine.close());
  const config = engineConfig(stories(), { ...DEFAULT_SETTINGS, threads: 1 });
  const dir = tempDir('keymate-kv-');
  fs.writeFileSync(path.join(dir, 'cx-1.kmkv.tmp-99999-1'), 'half a file');
  const logs: string[] = [];
  // Room for about two small conversations' files.
  const run = async (cache: ConversationCache, id: string, prompt: string): Promise<void> => {
    cache.enter(config, id);
    await engine.generate(config, () => ({ request: { prompt, maxTokens: 8, temperature: 0 }, prefix: '' }), {});
    cache.ran(id);
  };
  const probe = new ConversationCache(engine, dir, (l) => logs.push(l));
  assert.deepEqual(fs.readdirSync(dir), [], "the crashed save's temporary file is gone");
  await run(probe, 'c0-1', 'Once upon a time there was a dog');
  await probe.leave();
  const one = fs.statSync(probe.file('c0-1')).size;

  const cache = new ConversationCache(engine, dir, (l) => logs.push(l), Math.floor(one * 2.5));
  for (const id of ['c0-2', 'c0-3', 'c0-4']) {
    await new Promise((r) => setTimeout(r, 20)); // distinct mtimes
    await run(cache, id, `Once upon a time there was a ${id}`);
  }
  await cache.leave();
  assert.deepEqual(fs.readdirSync(dir).sort(), ['c0-3.kmkv', 'c0-4.kmkv'], 'the least recently used went first');
  assert.deepEqual(logs, []);
});
