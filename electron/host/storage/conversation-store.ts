// The saved conversations: one versioned JSON file each in
// <home>/conversations/<id>.json, written atomically (temp file, fsync,
// rename) by its own SerialWriter, and current.json naming the one presses
// continue. A change is acknowledged (its Promise resolves) once the file
// holding it is on disk, so a crash at any moment loses nothing acknowledged.
// Files are read once, at open; a file that cannot be understood is set
// aside (versioned-file.ts) and named in `problems`, never deleted. A deleted
// conversation's file moves to deleted/, where it can be restored (undo)
// until the next start empties that folder.
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { z } from 'zod';

import type { Character } from '../../../common/contract/character';
import { Conversation, ConversationId, GREETING, type ConversationSummary, type ReplyVersion, type Turn } from '../../../common/contract/conversation';
import { syncFolder } from './atomic-file';
import { SerialWriter } from './serial-writer';
import { loadVersioned, saveVersioned, type VersionedFormat } from './versioned-file';

export const CONVERSATION_VERSION = 1;

const conversationFormat: VersionedFormat<Conversation> = {
  kind: 'conversation',
  version: CONVERSATION_VERSION,
  schema: Conversation,
  migrations: [],
  defaults: () => emptyConversation('c0', 0),
};

const currentFormat: VersionedFormat<{ id: string | null }> = {
  kind: 'current-conversation',
  version: 1,
  schema: z.strictObject({ id: ConversationId.nullable() }),
  migrations: [],
  defaults: () => ({ id: null }),
};

/** Characters of the first question a new conversation's title keeps. */
const TITLE_CHARS = 60;

export class ConversationStore {
  private readonly writers = new Map<string, SerialWriter>();
  private readonly currentWriter: SerialWriter;
  private made = 0;
  /** holdWrites() calls not yet released, and the saves asked for meanwhile, in order. */
  private holds = 0;
  private heldSaves: (() => void)[] = [];

  private constructor(
    readonly dir: string,
    private readonly all: Map<string, Conversation>,
    private currentId: string,
    /** Files set aside at open, with why. */
    readonly problems: string[],
  ) {
    this.currentWriter = new SerialWriter(() => saveVersioned(path.join(this.dir, 'current.json'), currentFormat, { id: this.currentId }));
  }

  static async open(home: string, now: () => number = Date.now): Promise<ConversationStore> {
    const dir = path.join(home, 'conversations');
    await fs.rm(path.join(dir, 'deleted'), { recursive: true, force: true });
    await fs.mkdir(path.join(dir, 'deleted'), { recursive: true });
    const all = new Map<string, Conversation>();
    const problems: string[] = [];
    for (const name of (await fs.readdir(dir)).sort()) {
      const id = name.endsWith('.json') ? name.slice(0, -'.json'.length) : '';
      if (!ConversationId.safeParse(id).success) continue;
      const loaded = await loadVersioned(path.join(dir, name), conversationFormat);
      if (loaded.status === 'kept-aside') problems.push(`conversation ${id}: ${loaded.problem ?? 'unreadable'} (kept as ${loaded.keptAs ?? '?'})`);
      else if (loaded.data.id === id) all.set(id, loaded.data);
    }
    const current = await loadVersioned(path.join(dir, 'current.json'), currentFormat);
    let id = current.data.id;
    const store = new ConversationStore(dir, all, id ?? '', problems);
    if (id === null || !all.has(id)) {
      // No current one (a first start, or its file was set aside): the newest, else a new one.
      const newest = store.list(1)[0];
      id = newest?.id ?? (await store.create(now())).id;
      store.currentId = id;
      await store.currentWriter.save();
    }
    return store;
  }

  /** The conversation presses continue. */
  get current(): Conversation {
    return this.get(this.currentId);
  }

  get(id: string): Conversation {
    const c = this.all.get(id);
    if (c === undefined) throw new Error(`conversation ${id}: there is no such conversation`);
    return c;
  }

  /** Most recently continued first; with a query, those whose title or turns contain it (any case). */
  list(limit = 100, query = ''): ConversationSummary[] {
    const q = query.trim().toLowerCase();
    const matches = (c: Conversation): boolean => q === '' || c.title.toLowerCase().includes(q) || c.turns.some((t) => t.text.toLowerCase().includes(q));
    return [...this.all.values()]
      .filter(matches)
      .sort((a, b) => b.updated_ms - a.updated_ms || b.created_ms - a.created_ms)
      .slice(0, limit)
      .map(summary);
  }

  async rename(id: string, title: string): Promise<ConversationSummary> {
    const c = this.get(id);
    c.title = title.trim();
    await this.save(c);
    return summary(c);
  }

  /** Moves its file to deleted/; the current one is replaced by the newest other (or a new one). */
  async delete(id: string, now: number = Date.now()): Promise<ConversationSummary> {
    const c = this.get(id);
    await this.writers.get(id)?.flush();
    this.all.delete(id);
    this.writers.delete(id);
    await fs.rename(path.join(this.dir, `${id}.json`), path.join(this.dir, 'deleted', `${id}.json`)).catch((e: NodeJS.ErrnoException) => {
      if (e.code !== 'ENOENT') throw e;
    });
    await syncFolder(this.dir);
    if (this.currentId === id) {
      const newest = this.list(1)[0];
      this.currentId = newest?.id ?? (await this.create(now)).id;
      await this.currentWriter.save();
    }
    return summary(c);
  }

  /** Brings back a conversation deleted since this start. */
  async restore(id: string): Promise<ConversationSummary> {
    if (this.all.has(id)) return summary(this.get(id));
    const from = path.join(this.dir, 'deleted', `${id}.json`);
    const loaded = await loadVersioned(from, conversationFormat);
    if (loaded.status !== 'loaded' || loaded.data.id !== id) throw new Error(`conversation ${id}: there is no deleted conversation to restore`);
    await fs.rename(from, path.join(this.dir, `${id}.json`));
    await syncFolder(this.dir);
    this.all.set(id, loaded.data);
    return summary(loaded.data);
  }

  /** A new conversation with the first `turns` turns of `id`, made current once on disk. */
  async branch(id: string, turns: number, now: number = Date.now()): Promise<Conversation> {
    const from = this.get(id);
    if (turns > from.turns.length) throw new Error(`branch: the conversation has ${from.turns.length} turns, not ${turns}`);
    const c = await this.create(now);
    c.turns = structuredClone(from.turns.slice(0, turns));
    c.context_from = Math.min(from.context_from, turns);
    c.title = from.title === '' ? '' : `${from.title} (branch)`.slice(0, 200);
    c.branched_from = { id, turns };
    await this.save(c);
    await this.select(c.id);
    return c;
  }

  /** A new version of the reply at `index` (a swipe), made the one shown: every version is kept. */
  async addVersion(id: string, index: number, v: ReplyVersion): Promise<Turn> {
    const t = this.replyAt(id, index);
    const versions = t.versions ?? [versionOf(t)];
    versions.push(v);
    Object.assign(t, v, { versions, chosen: versions.length - 1 });
    await this.save(this.get(id));
    return t;
  }

  /** Shows version `k` of the reply at `index`. */
  async choose(id: string, index: number, k: number): Promise<Turn> {
    const t = this.replyAt(id, index);
    const versions = t.versions ?? [versionOf(t)];
    const v = versions[k];
    if (v === undefined) throw new Error(`choose: the reply has ${versions.length} version${versions.length === 1 ? '' : 's'}, not ${k + 1}`);
    Object.assign(t, v, { versions, chosen: k });
    await this.save(this.get(id));
    return t;
  }

  /**
   * A new conversation, made the current one once on disk: empty, or with a
   * character, who greets first (its other greetings are the greeting's
   * other versions). An empty current one without a character is reused.
   */
  async startNew(now: number = Date.now(), character: Character | null = null): Promise<Conversation> {
    const cur = this.all.get(this.currentId);
    if (character === null && cur !== undefined && cur.turns.length === 0 && cur.character === undefined) return cur;
    const c = await this.create(now);
    if (character !== null) {
      c.character = { id: character.id, name: character.name, persona: character.persona, sampling: { ...character.sampling } };
      c.title = character.name.slice(0, 200);
      const greetings = [character.greeting, ...character.alternate_greetings].filter((g) => g.trim() !== '');
      if (greetings.length > 0) {
        const versions = greetings.map((text) => ({ text, t_ms: now, stop: 'eos' as const, prompt_tokens: null, cached_tokens: null }));
        c.turns.push({ role: 'assistant', press_id: GREETING, ...versions[0]!, ...(versions.length > 1 ? { versions, chosen: 0 } : {}) });
      }
      await this.save(c);
    }
    await this.select(c.id);
    return c;
  }

  async select(id: string): Promise<Conversation> {
    const c = this.get(id);
    this.currentId = id;
    await this.currentWriter.save();
    return c;
  }

  /** Appends a turn; resolves with its index once it is on disk. */
  async append(id: string, turn: Turn): Promise<number> {
    const c = this.get(id);
    c.turns.push(turn);
    c.updated_ms = Math.max(c.updated_ms, turn.t_ms);
    if (c.title === '' && turn.role === 'user') c.title = titleOf(turn.text);
    const index = c.turns.length - 1;
    await this.save(c);
    return index;
  }

  /** Removes the turns a press made (a double-tap's first tap was a gesture, not a question). */
  async withdraw(id: string, pressId: string): Promise<boolean> {
    const c = this.get(id);
    const kept = c.turns.filter((t) => t.press_id !== pressId);
    if (kept.length === c.turns.length) return false;
    c.turns = kept;
    c.context_from = Math.min(c.context_from, kept.length);
    if (kept.length === 0) c.title = '';
    await this.save(c);
    return true;
  }

  /** The model now sees the turns from `from` on; `notice`, when given, is added to tell the user. */
  async setContextFrom(id: string, from: number, notice: Turn | null): Promise<void> {
    const c = this.get(id);
    c.context_from = Math.min(from, c.turns.length);
    if (notice !== null) c.turns.push(notice);
    await this.save(c);
  }

  /** Resolves when every change asked for so far is on disk. */
  async flush(): Promise<void> {
    await Promise.all([...this.writers.values(), this.currentWriter].map((w) => w.flush()));
  }

  private replyAt(id: string, index: number): Turn {
    const t = this.get(id).turns[index];
    if (t?.role !== 'assistant') throw new Error(`conversation ${id}: turn ${index} is not a reply`);
    return t;
  }

  private async create(now: number): Promise<Conversation> {
    this.made++;
    const c = emptyConversation(`c${now.toString(36)}-${this.made.toString(36)}`, now);
    this.all.set(c.id, c);
    await this.save(c);
    return c;
  }

  /**
   * Saves asked for from now until the returned function is called start
   * then, in order; changes in memory are not held. A key press holds them
   * while it is sent: a save's serialisation and its file system round trips
   * on this thread would stand between the engine's first token and the
   * screen, and a long conversation serialises in milliseconds. The caller
   * must release (KeySession does within a display frame).
   */
  holdWrites(): () => void {
    this.holds++;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      if (--this.holds > 0) return;
      const saves = this.heldSaves;
      this.heldSaves = [];
      for (const save of saves) save();
    };
  }

  private save(c: Conversation): Promise<void> {
    let w = this.writers.get(c.id);
    if (w === undefined) {
      w = new SerialWriter(() => saveVersioned(path.join(this.dir, `${c.id}.json`), conversationFormat, c));
      this.writers.set(c.id, w);
    }
    const writer = w;
    if (this.holds === 0) return writer.save();
    return new Promise<void>((resolve, reject) => this.heldSaves.push(() => void writer.save().then(resolve, reject)));
  }
}

function summary(c: Conversation): ConversationSummary {
  return { id: c.id, title: c.title, created_ms: c.created_ms, updated_ms: c.updated_ms, turns: c.turns.length };
}

function versionOf(t: Turn): ReplyVersion {
  return { text: t.text, t_ms: t.t_ms, stop: t.stop ?? 'eos', prompt_tokens: t.prompt_tokens, cached_tokens: t.cached_tokens };
}

function emptyConversation(id: string, now: number): Conversation {
  return { id, title: '', created_ms: now, updated_ms: now, turns: [], context_from: 0 };
}

function titleOf(text: string): string {
  const line = text.replace(/\s+/g, ' ').trim();
  return line.length <= TITLE_CHARS ? line : `${line.slice(0, TITLE_CHARS - 1).trimEnd()}…`;
}
