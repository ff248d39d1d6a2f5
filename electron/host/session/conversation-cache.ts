// A conversation's KV cache kept across switching and restarts. The engine
// holds one conversation's K/V at a time (its prefix cache); this class
// knows whose, saves it to <home>/kv/<conversation>.kmkv when the user
// leaves that conversation (another one opened or started, the app
// stopped), and loads a conversation's file back before its next press
// (at key down, so the load overlaps the key being held). Coming back to
// yesterday's chat then prefills only the new press.
//
// The folder is bounded: past KV_BUDGET_BYTES the least recently used files
// go, never the one just written or read. A file that does not load (another
// model, another KV format, damage) is deleted: it can never be used again,
// and the conversation is simply read again. Nothing here is the
// conversation itself (that is conversation-store.ts): losing a file costs
// time, never a turn.
import * as fs from 'node:fs';
import * as path from 'node:path';

import type { EngineConfig, EngineService } from '../services/engine-service';

/** What the folder may hold; a 1B model's conversation of 4,096 tokens is about 128 MB of f16 K/V. */
export const KV_BUDGET_BYTES = 2 * 1024 ** 3;

export class ConversationCache {
  /** The conversation whose K/V the engine holds, and whether it changed since it was saved or loaded. */
  private owner: { id: string; config: EngineConfig; key: string; dirty: boolean } | null = null;

  constructor(
    private readonly engine: EngineService,
    readonly dir: string,
    private readonly log: (message: string) => void,
    private readonly budget = KV_BUDGET_BYTES,
  ) {
    fs.mkdirSync(dir, { recursive: true });
    // A save cut short by a crash leaves its temporary file (kv_state's write: <file>.tmp-<pid>-<n>).
    for (const name of fs.readdirSync(dir)) if (name.includes('.kmkv.tmp-')) fs.rmSync(path.join(dir, name), { force: true });
  }

  file(conversationId: string): string {
    return path.join(this.dir, `${conversationId}.kmkv`);
  }

  /**
   * Before a press (or its warm-up) in `conversationId`: when the engine holds
   * another conversation, that one is saved and this one's file loaded. Both
   * go into the engine's queue ahead of the press, in order.
   */
  enter(config: EngineConfig, conversationId: string): void {
    const key = JSON.stringify(config);
    if (this.owner?.id === conversationId && this.owner.key === key) return;
    void this.leave();
    this.owner = { id: conversationId, config, key, dirty: false };
    const file = this.file(conversationId);
    if (!fs.existsSync(file)) return;
    this.engine.restoreState(config, file).then(
      (info) => {
        if (info !== null) touch(file);
      },
      (e: unknown) => {
        const message = e instanceof Error ? e.message : String(e);
        this.log(`kv: ${path.basename(file)} not used: ${message}`);
        // The file itself is unusable (damaged, another model or format): it never will be. A model
        // that failed to load says nothing about the file.
        if (message.startsWith('load_state:')) fs.rmSync(file, { force: true });
      },
    );
  }

  /** A press ran in the conversation the engine holds: its K/V changed. */
  ran(conversationId: string): void {
    if (this.owner?.id === conversationId) this.owner.dirty = true;
  }

  /** The engine's conversation is left (another one's press, a switch, a stop): its K/V saved if it changed. */
  leave(): Promise<void> {
    const owner = this.owner;
    this.owner = null;
    if (owner === null || !owner.dirty) return Promise.resolve();
    const file = this.file(owner.id);
    return this.engine.saveState(owner.config, file).then(
      (info) => {
        if (info !== null) this.evict(file);
      },
      (e: unknown) => this.log(`kv: ${owner.id} not saved: ${e instanceof Error ? e.message : String(e)}`),
    );
  }

  /** Oldest first out until the folder fits the budget; `keep` stays whatever its size. */
  private evict(keep: string): void {
    const files = fs
      .readdirSync(this.dir)
      .filter((n) => n.endsWith('.kmkv'))
      .map((n) => {
        const f = path.join(this.dir, n);
        const s = fs.statSync(f, { throwIfNoEntry: false });
        return { f, size: s?.size ?? 0, used: s?.mtimeMs ?? 0 };
      })
      .sort((a, b) => a.used - b.used);
    let total = files.reduce((sum, x) => sum + x.size, 0);
    for (const x of files) {
      if (total <= this.budget) break;
      if (x.f === keep) continue;
      fs.rmSync(x.f, { force: true });
      total -= x.size;
    }
  }
}

/** Marks a file as just used (its mtime is the LRU's clock). */
function touch(file: string): void {
  const now = new Date();
  try {
    fs.utimesSync(file, now, now);
  } catch {
    // gone meanwhile: nothing to keep fresh
  }
}
