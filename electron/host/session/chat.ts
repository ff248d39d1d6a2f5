// The key session's conversation: which one a press continues, what of it the
// model reads, and the turns a press adds. A press's user turn is saved when
// the press is sent and its reply's turn when the reply ends; each is
// announced (conversation.turn) once it is on disk, so what the UI shows is
// what a crash keeps.
//
// The prompt of a press is the persona, the turns the model still sees
// (context-fit.ts) and the new text, rendered by the model's template
// (prompt.ts). It starts with the last press's prompt and reply, so the
// engine's prefix cache holds all of it but the new turn.
import type { Character, Conversation, Settings, StopReason, Turn } from '../../../common/contract';
import type { PromptModel } from '../services/engine-service';
import type { ConversationStore } from '../storage/conversation-store';
import { fitFrom, modelTurns, promptBudget } from './context-fit';
import type { History, PromptBuilder, RenderedPrompt } from './prompt';

/** Where a press stands in its conversation: the turns before its own. */
export interface ChatPress {
  conversationId: string;
  upTo: number;
  /** A swipe: the reply turn this press writes a new version of (its question is turns[upTo]); null for a new question. */
  again: number | null;
}

export interface ChatEvents {
  turn(conversationId: string, index: number, turn: Turn): void;
  conversation(c: Conversation): void;
  /** A turn could not be saved. */
  failed(message: string): void;
}

export class Chat {
  constructor(
    private readonly store: ConversationStore,
    private readonly events: ChatEvents,
  ) {}

  get current(): Conversation {
    return this.store.current;
  }

  /** The press the next release sends, before its turn exists (for warming and preparing). */
  next(): ChatPress {
    const c = this.store.current;
    return { conversationId: c.id, upTo: c.turns.length, again: null };
  }

  /**
   * The current conversation's last question, to answer again (a swipe): its
   * text, and the press that writes a new version of its reply (or its first
   * reply, when it has none). Null when nothing was asked yet.
   */
  lastQuestion(): { press: ChatPress; text: string } | null {
    const c = this.store.current;
    let u = c.turns.length - 1;
    while (u >= 0 && c.turns[u]!.role !== 'user') u--;
    if (u < 0) return null;
    let r = u + 1;
    while (r < c.turns.length && c.turns[r]!.role === 'notice') r++;
    const reply = c.turns[r]?.role === 'assistant' ? r : null;
    return { press: { conversationId: c.id, upTo: u, again: reply }, text: c.turns[u]!.text };
  }

  /** Shows another version of the current conversation's last reply (or of its character's greeting, before any question). */
  async choose(version: number): Promise<Conversation> {
    const cur = this.store.current;
    const q = this.lastQuestion();
    const reply = q !== null ? q.press.again : cur.turns.findIndex((t) => t.role === 'assistant');
    if (reply === null || reply < 0) throw new Error('choose: the conversation has no reply yet');
    await this.store.choose(cur.id, reply, version);
    const c = structuredClone(this.store.get(cur.id));
    this.events.conversation(c);
    return c;
  }

  /** A branch of `id` holding its first `turns` turns, made current. */
  async branch(id: string, turns: number): Promise<Conversation> {
    const c = await this.store.branch(id, turns);
    this.events.conversation(structuredClone(c));
    return c;
  }

  /** A press was sent with `text`: its user turn. */
  ask(pressId: string, text: string, tMs: number): ChatPress {
    const press = this.next();
    this.save(press.conversationId, { role: 'user', text, press_id: pressId, t_ms: tMs, stop: null, prompt_tokens: null, cached_tokens: null });
    return press;
  }

  /** The reply to a press ended. A reply with no text adds no turn (the question stays, unanswered). */
  answered(press: ChatPress, pressId: string, r: { completion: string; stop: StopReason; promptTokens: number | null; cachedTokens: number | null }): void {
    if (r.completion === '') return;
    if (press.again !== null) {
      const version = { text: r.completion, t_ms: Date.now(), stop: r.stop, prompt_tokens: r.promptTokens, cached_tokens: r.cachedTokens };
      this.store.addVersion(press.conversationId, press.again, version).then(
        () => this.events.conversation(structuredClone(this.store.get(press.conversationId))),
        (e: unknown) => this.events.failed(`conversation: the new version of the reply was not saved: ${e instanceof Error ? e.message : String(e)}`),
      );
      return;
    }
    this.save(press.conversationId, {
      role: 'assistant',
      text: r.completion,
      press_id: pressId,
      t_ms: Date.now(),
      stop: r.stop,
      prompt_tokens: r.promptTokens,
      cached_tokens: r.cachedTokens,
    });
  }

  /** The persona and the history a press continues, as the prompt builder takes them. */
  history(press: ChatPress): History {
    const c = this.store.get(press.conversationId);
    const from = Math.min(c.context_from, press.upTo);
    return { key: historyKey(c, from, press.upTo), turns: modelTurns(c.turns, from, press.upTo) };
  }

  /**
   * The press's prompt, fitted to the model's context: when the turns no
   * longer fit, the oldest go (and the user is told, once per conversation).
   */
  prompt(press: ChatPress, builder: PromptBuilder, persona: string, text: string, model: PromptModel, maxTokens: number): RenderedPrompt {
    const c = this.store.get(press.conversationId);
    const rendered = builder.render(persona, text, this.history(press));
    const budget = promptBudget(model.context, maxTokens);
    // Each token is at least one byte (or BOS): a prompt of fewer bytes than the budget fits without counting.
    if (Buffer.byteLength(rendered.prompt) + 1 <= budget) return rendered;
    const from = Math.min(c.context_from, press.upTo);
    const upTo = press.upTo;
    const count = (f: number): number => {
      const r = builder.render(persona, text, { key: historyKey(c, f, upTo), turns: modelTurns(c.turns, f, upTo) });
      return model.count(r.prompt, r.addBos, r.parseSpecial);
    };
    const fitted = fitFrom(c.turns.slice(0, upTo), from, budget, count);
    if (fitted === from) return rendered;
    this.cutAt(c, fitted, upTo, `the model's context of ${model.context} tokens`);
    return builder.render(persona, text, this.history({ conversationId: c.id, upTo, again: press.again }));
  }

  /**
   * A remote model's context was full and the press went on with only the
   * last `kept` of its earlier turns (as the model reads them): from the next
   * press on the conversation starts where those do, so it is not asked in
   * vain first again, and the user is told as for a local model.
   */
  keepLast(press: ChatPress, kept: number): void {
    const c = this.store.get(press.conversationId);
    const from = Math.min(c.context_from, press.upTo);
    for (let f = from + 1; f <= press.upTo; f++) {
      // Exchanges go whole: a cut starts at a question (or at the press itself).
      if (f < press.upTo && c.turns[f]?.role !== 'user') continue;
      if (modelTurns(c.turns, f, press.upTo).length <= kept) {
        this.cutAt(c, f, press.upTo, "the remote model's context");
        return;
      }
    }
  }

  /** The conversation shows the model its turns from `from` on; the first such cut adds a notice. */
  private cutAt(c: Conversation, from: number, upTo: number, context: string): void {
    const told = c.turns.some((t) => t.role === 'notice');
    const pressId = c.turns[upTo]?.press_id ?? c.turns[upTo - 1]?.press_id ?? 'p0';
    const notice: Turn | null = told
      ? null
      : {
          role: 'notice',
          text: `The conversation no longer fits ${context}: from here on the companion no longer sees its oldest turns.`,
          press_id: pressId,
          t_ms: Date.now(),
          stop: null,
          prompt_tokens: null,
          cached_tokens: null,
        };
    this.store.setContextFrom(c.id, from, notice).then(
      () => this.events.conversation(structuredClone(this.store.get(c.id))),
      (e: unknown) => this.events.failed(`conversation: not saved: ${e instanceof Error ? e.message : String(e)}`),
    );
  }

  /** The persona a press's conversation starts with: its character's, else the settings'. */
  persona(press: ChatPress, settings: Settings): string {
    return this.store.get(press.conversationId).character?.persona ?? settings.persona;
  }

  /** The sampling of a press: the settings', with its character's own where it has them. */
  sampling(press: ChatPress, settings: Settings): { temperature: number; topK: number; topP: number } {
    const own = this.store.get(press.conversationId).character?.sampling ?? {};
    return { temperature: own.temperature ?? settings.temperature, topK: own.top_k ?? settings.top_k, topP: own.top_p ?? settings.top_p };
  }

  /** A new conversation for the presses that follow: empty, or with a character who greets first. */
  async startNew(character: Character | null = null): Promise<Conversation> {
    const c = await this.store.startNew(Date.now(), character);
    this.events.conversation(structuredClone(c));
    return c;
  }

  async open(id: string): Promise<Conversation> {
    const c = await this.store.select(id);
    this.events.conversation(structuredClone(c));
    return c;
  }

  /** Takes back the turns a press added (a double-tap's first tap). */
  async withdraw(press: ChatPress, pressId: string): Promise<void> {
    if (await this.store.withdraw(press.conversationId, pressId)) this.events.conversation(structuredClone(this.store.get(press.conversationId)));
  }

  private save(conversationId: string, turn: Turn): void {
    this.store.append(conversationId, turn).then(
      (index) => this.events.turn(conversationId, index, turn),
      (e: unknown) => this.events.failed(`conversation: the ${turn.role} turn was not saved: ${e instanceof Error ? e.message : String(e)}`),
    );
  }
}

/**
 * Names the turns [from, upTo) exactly, for the prompt builder's cache: turns
 * are only ever added, except that a reply's shown version can change (a
 * swipe, a choice), so the chosen versions are part of the name.
 */
function historyKey(c: Conversation, from: number, upTo: number): string {
  const chosen = c.turns
    .slice(from, upTo)
    .map((t) => (t.versions === undefined ? '' : String(t.chosen ?? 0)))
    .join(',');
  return `${c.id}:${from}:${upTo}:${c.turns[upTo - 1]?.press_id ?? ''}:${chosen}`;
}
