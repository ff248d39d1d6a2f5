// The key-press session. One logical AI key, whichever
// source moves it (the keyboard's key, the on-screen key, the global
// shortcut), and at most one reply at a time.
//
//   idle/error --down--> listening --up--> thinking --first token--> replying --done--> idle
//                          |  text typed while held is the prompt;       \--failure--> error
//                          |  nothing typed: the default prompt.
//                          \  the engine warms: model loaded, persona prefilled.
//
// Rapid-press policy (presses are never queued):
//   - down while thinking or replying cancels that reply; the press does
//     nothing else, and its release is ignored. Presses while the cancelled
//     reply winds down (at most one token) are absorbed the same way.
//   - down while already listening (a second source, or a lost up) is ignored;
//     the first up sends.
//   - up without a matching down is ignored.
//   - a GPIO rising edge is a trigger: while listening it sends like an up;
//     when idle it sends the default prompt at once; while a reply runs it is
//     ignored (a line that bounces must not cancel a reply).
//   - a generate request while a press is held or a reply runs is refused.
//   - a source without releases (global shortcut, tray) taps: see tap().
//   - a keyboard unplugged while its key is held drops that press: see keyLost().
//   - a double tap of the keyboard's or the on-screen key (a press under
//     TAP_MS with nothing typed, and the key down again within DOUBLE_TAP_MS
//     of its release) starts a new conversation: the first tap's reply is
//     stopped and its turns taken back (PROTOCOL.md §7).
// Every state change is an event and the keyboard's STATUS LED shows it.
//
// A reasoning model's reply is split as it streams (common/thinking.ts): the
// UI gets its thinking apart from its answer, the keyboard's display the
// answer alone, and the conversation the reply as the model wrote it.
import type { Character, Conversation, EventName, EventOf, KeyState, PressSource, ReplySnapshot, ReplyTimings, SessionState, SessionStatus, Settings, StopReason } from '../../../common/contract';
import { preciseNowMs } from '../../../common/clock';
import type { ChatMessage } from '../../../common/openai';
import { THINK_CLOSE, THINK_OPEN, ThinkingSplit, showsText, splitThinking } from '../../../common/thinking';
import type { LedState, ReplyStream } from '../../../firmware-bridge';
import type { NativeStageTimes } from '../engine/native';
import type { HostEvents } from '../host-events';
import type { ConversationStore } from '../storage/conversation-store';
import { type RemoteEngine, isContextOverflow } from '../remote/remote-engine';
import { CancelledBeforeStart, type EngineService, engineConfig } from '../services/engine-service';
import { KeyboardReply } from './keyboard-reply';
import { Chat, type ChatPress } from './chat';
import type { ConversationCache } from './conversation-cache';
import { PromptBuilder } from './prompt';
import { ENGINE_HOLD_MS, TOKEN_FRAME_MS, TokenBatcher } from './token-batcher';

export interface FinishedReply {
  press_id: string;
  t_ms: number;
  source: PressSource;
  prompt: string;
  completion: string;
  stop: StopReason;
  model: string;
  backend: string;
  timings: ReplyTimings | null;
}

export interface SessionContext {
  events: HostEvents;
  engine: EngineService;
  settings(): Settings;
  /** The model to run; null when none is chosen. */
  model(): string | null;
  /** The remote engine, while one answers instead of the local engine; else null. */
  remote(): RemoteEngine | null;
  setLed(led: LedState): void;
  /** A reply on the keyboard's display, streamed as it is written; null without one. */
  keyboardReply(): ReplyStream | null;
  /** A reply finished (any stop reason): history and performance records. */
  finished(reply: FinishedReply): void;
  /** Something the user should know that is not an error of this press. */
  warn(message: string): void;
  /** The saved conversations; presses continue the current one. */
  conversations: ConversationStore;
  /** Whose K/V the engine holds, saved and restored across switches and restarts. */
  kv: ConversationCache;
}

/** A press held at most this long with nothing typed is a tap... */
export const TAP_MS = 200;
/** ...and the key down again within this long after it a double tap: a new conversation. */
export const DOUBLE_TAP_MS = 300;

interface Trigger {
  /** performance.now() when the host saw the trigger (key up, GPIO edge, request). */
  at: number;
  /** Unix epoch ms of the same moment. */
  epochMs: number;
  /** Keyboard edge to host receipt, when known. */
  linkMs: number | null;
}

export class KeySession {
  private state: SessionState = 'idle';
  private pressId: string | null = null;
  private pressSource: PressSource = 'keyboard';
  private typed = '';
  private message: string | null = null;
  private key: KeyState = { down: false, source: null, t_ms: Date.now() };
  private reply: ReplySnapshot | null = null;
  private running: { pressId: string; controller: AbortController; done: Promise<void> } | null = null;
  private swallowRelease = false;
  private pressCount = 0;
  /** Notifications held while a press is being sent (sending()). */
  private held: Array<() => void> | null = null;
  /** Its reply.start, which goes first. */
  private startNotices: Array<() => void> | null = null;
  /** Held notifications waiting for the press's first token or a frame. */
  private waiting: { fns: Array<() => void>; timer: ReturnType<typeof setTimeout> } | null = null;
  private builder: { template: string; builder: PromptBuilder } | null = null;
  /** When the key went down (performance.now()). */
  private downAt = 0;
  /** The last press a release sent, while it may still be the first half of a double tap. */
  private lastTap: { pressId: string; press: ChatPress; releasedAt: number; source: PressSource } | null = null;
  readonly chat: Chat;

  constructor(private readonly ctx: SessionContext) {
    this.chat = new Chat(ctx.conversations, {
      turn: (conversationId, index, turn) => this.emitAfterPress('conversation.turn', { conversation_id: conversationId, index, turn }),
      conversation: (c) => this.emitAfterPress('conversation', c),
      failed: (message) => this.ctx.warn(message),
    });
  }

  status(): SessionStatus {
    return { state: this.state, press_id: this.pressId, typed: this.typed, message: this.message };
  }

  keyState(): KeyState {
    return { ...this.key };
  }

  replySnapshot(): ReplySnapshot | null {
    return this.reply === null ? null : structuredClone(this.reply);
  }

  /** Resolves when the reply in progress (if any) has finished. */
  async idle(): Promise<void> {
    await this.running?.done;
  }

  keyDown(source: PressSource): SessionStatus {
    this.setKey(true, source);
    const at = performance.now();
    const tap = this.lastTap;
    this.lastTap = null;
    // A press right after a failed one is a new try, not a gesture.
    if (tap !== null && tap.source === source && at - tap.releasedAt <= DOUBLE_TAP_MS && this.state !== 'listening' && this.state !== 'error') {
      this.doubleTap(tap);
      return this.status();
    }
    this.downAt = at;
    if (this.state === 'thinking' || this.state === 'replying') {
      this.swallowRelease = true;
      this.cancel();
      return this.status();
    }
    if (this.state === 'listening') return this.status();
    this.pressId = this.newPressId();
    this.pressSource = source;
    this.typed = '';
    this.message = null;
    this.setState('listening');
    this.warm();
    this.prepare();
    return this.status();
  }

  keyUp(source: PressSource, linkMs: number | null = null): SessionStatus {
    return this.sending(() => this.keyUpAt(source, now(linkMs)));
  }

  private keyUpAt(source: PressSource, trigger: Trigger): SessionStatus {
    this.setKey(false, source);
    if (this.swallowRelease) {
      this.swallowRelease = false;
      return this.status();
    }
    if (this.state !== 'listening' || this.pressId === null) return this.status();
    const tapped = this.typed.trim() === '' && trigger.at - this.downAt <= TAP_MS;
    const pressId = this.pressId;
    const press = this.send(pressId, this.pressSource, this.typed, trigger);
    // Only a key with its own releases double-taps: a source that only taps (the global shortcut) alternates listen and send.
    if (tapped && (source === 'keyboard' || source === 'screen')) this.lastTap = { pressId, press, releasedAt: trigger.at, source };
    return this.status();
  }

  /**
   * The second press of a double tap: the first one was a gesture, not a
   * question. Its reply stops, its turns are taken back, and a new
   * conversation begins; this press's release sends nothing.
   */
  private doubleTap(tap: { pressId: string; press: ChatPress }): void {
    this.swallowRelease = true;
    this.cancel();
    const running = this.running?.done ?? Promise.resolve();
    void running
      .then(() => this.chat.withdraw(tap.press, tap.pressId))
      .then(() => this.chat.startNew())
      .then(() => this.ctx.kv.leave())
      .catch((e: unknown) => this.ctx.warn(`new conversation: ${e instanceof Error ? e.message : String(e)}`));
  }

  /** Starts a new conversation (the app's button), with a character when given; refused while a press is held or a reply runs. */
  async newConversation(character: Character | null = null): Promise<Conversation> {
    this.refuseWhileBusy('new conversation');
    this.lastTap = null;
    await this.ctx.kv.leave();
    return this.chat.startNew(character);
  }

  /** Continues a saved conversation from the next press on. */
  async openConversation(id: string): Promise<Conversation> {
    this.refuseWhileBusy('open conversation');
    this.lastTap = null;
    await this.ctx.kv.leave();
    return this.chat.open(id);
  }

  /** Writes the current conversation's last reply again (a swipe); the reply streams as any press's. */
  regenerate(): string {
    this.refuseWhileBusy('regenerate');
    const q = this.chat.lastQuestion();
    if (q === null) throw new Error('regenerate: nothing was asked in this conversation yet');
    this.lastTap = null;
    const id = this.newPressId();
    this.sending(() => this.send(id, 'request', q.text, now(null), q.press));
    return id;
  }

  /** Shows another version of the last reply. */
  async chooseVersion(version: number): Promise<Conversation> {
    this.refuseWhileBusy('choose');
    return this.chat.choose(version);
  }

  /** A new conversation from the first `turns` turns of another, continued from the next press on. */
  async branch(id: string, turns: number): Promise<Conversation> {
    this.refuseWhileBusy('branch');
    this.lastTap = null;
    await this.ctx.kv.leave();
    return this.chat.branch(id, turns);
  }

  /** Saves the K/V of the conversation the engine holds (the host is stopping). */
  saveConversationCache(): Promise<void> {
    return this.ctx.kv.leave();
  }

  /** Refuses while a press is held or a reply runs: what would change the conversation under it. */
  refuseWhileBusy(what: string): void {
    if (this.state === 'listening') throw new Error(`${what}: the AI key is held (release it first)`);
    if (this.state === 'thinking' || this.state === 'replying') throw new Error(`${what}: a reply is in progress (stop it first)`);
  }

  gpio(level: 0 | 1, linkMs: number | null = null): void {
    if (level !== 1) return;
    const trigger = now(linkMs);
    this.sending(() => {
      if (this.state === 'listening' && this.pressId !== null) {
        this.send(this.pressId, this.pressSource, this.typed, trigger);
      } else if (this.state === 'idle' || this.state === 'error') {
        this.send(this.newPressId(), 'gpio', '', trigger);
      }
    });
  }

  /**
   * A key that reports presses but no releases (the global shortcut, the
   * tray): the first tap listens, the next one sends; a tap during a reply
   * cancels it (a press and its ignored release).
   */
  tap(source: PressSource): SessionStatus {
    if (this.state === 'listening') return this.keyUp(source);
    if (this.state === 'thinking' || this.state === 'replying') {
      this.keyDown(source);
      return this.keyUp(source);
    }
    return this.keyDown(source);
  }

  /**
   * The keyboard went away: a release it still owed will never come. A press
   * it was holding is dropped (back to idle, nothing sent), and a pending
   * "ignore the next release" is forgotten, so the next press works.
   */
  keyLost(source: PressSource): void {
    const holding = this.key.down && this.key.source === source;
    this.swallowRelease = false;
    if (!holding) return;
    this.setKey(false, source);
    if (this.state === 'listening' && this.pressSource === source) {
      this.typed = '';
      this.setState('idle');
    }
  }

  /** Text typed on the keyboard counts while the key is held. */
  text(text: string): void {
    if (this.state !== 'listening') return;
    this.typed += text;
    this.emitSession();
    this.prepare();
  }

  /** A prompt from the UI, as a press with typed text would send it. */
  generate(prompt: string): string {
    if (this.state === 'listening') throw new Error('generate: the AI key is held (release it to send)');
    if (this.state === 'thinking' || this.state === 'replying') throw new Error('generate: a reply is in progress (cancel it first)');
    const id = this.newPressId();
    this.sending(() => this.send(id, 'request', prompt, now(null)));
    return id;
  }

  /** Stops the reply in progress; false when there was none. */
  cancel(): boolean {
    if (this.running === null) return false;
    this.running.controller.abort();
    return true;
  }

  // ---- the reply ----

  /** Sends a press; `again` when it answers an earlier question again (a swipe) instead of asking a new one. */
  private send(pressId: string, source: PressSource, typed: string, trigger: Trigger, again: ChatPress | null = null): ChatPress {
    const settings = this.ctx.settings();
    const text = typed.trim() !== '' ? typed.trim() : settings.default_prompt;
    const press = again ?? this.chat.ask(pressId, text, trigger.epochMs);
    this.pressId = pressId;
    this.pressSource = source;
    this.message = null;
    this.reply = { press_id: pressId, source, prompt: text, text: '', thinking: '', done: false, stop: null, timings: null, error: null };
    this.setState('thinking');
    const start = { press_id: pressId, source, prompt: text, t_ms: trigger.epochMs };
    if (this.startNotices !== null) this.startNotices.push(() => this.ctx.events.emit('reply.start', start));
    else this.emit('reply.start', start);
    const controller = new AbortController();
    const done = this.run(pressId, press, source, text, settings, trigger, controller.signal).finally(() => this.release(pressId));
    // run() may have finished already (no model: it fails before its first await).
    if (this.state === 'thinking' && this.pressId === pressId) this.running = { pressId, controller, done };
    return press;
  }

  /** The reply is over: from now on a press starts a new one and cancel() has nothing to stop. */
  private release(pressId: string): void {
    if (this.running?.pressId === pressId) this.running = null;
  }

  private async run(pressId: string, press: ChatPress, source: PressSource, text: string, settings: Settings, trigger: Trigger, signal: AbortSignal): Promise<void> {
    const keyboard = new KeyboardReply(() => this.ctx.keyboardReply());
    // The snapshot a window gets on connecting (replySnapshot) holds what was sent, no more:
    // tokens the batcher still holds come to it as events, once.
    const tokens = new TokenBatcher(pressId, (t) => {
      if (this.reply?.press_id === pressId) {
        this.reply.text += t.text;
        if (t.thinking !== undefined) this.reply.thinking += t.thinking;
      }
      this.emit('reply.token', t);
    });
    // Set from the prompt: a template that opens the thinking block starts the reply inside it.
    let split = new ThinkingSplit();
    let opened = '';
    let calledAt = 0;
    let firstAt: number | null = null;
    let firstAtClock: number | null = null;
    let visible = false;
    const on: ReplyCallbacks = {
      signal,
      onStart: () => {
        calledAt = performance.now();
      },
      onToken: (e) => {
        const first = firstAt === null;
        if (first) {
          firstAt = performance.now();
          firstAtClock = preciseNowMs();
        }
        // The text first, what the user waits for; the state changes and the keyboard's
        // display after it. A reply that begins with white space (which shows nothing)
        // is "replying" from its first visible text, so the first word waits for nothing.
        const part = split.push(e.text);
        tokens.push({ index: e.index, text: part.answer, ...(part.thinking !== '' ? { thinking: part.thinking } : {}), tMs: e.tMs });
        if (!visible && showsText(part.answer, part.thinking)) {
          visible = true;
          this.flushWaiting();
          this.setState('replying');
        }
        keyboard.append(part.answer);
        return visible ? ENGINE_HOLD_MS : 0;
      },
    };
    try {
      const remote = this.ctx.remote();
      const result =
        remote !== null
          ? await this.remoteReply(remote, press, text, settings, on)
          : await this.localReply(press, text, settings, on, (o) => {
              opened = o;
              split = new ThinkingSplit(o !== '');
            });
      tokens.flush();
      // What the split still held (a "<" that began no tag) is in reply.done's parts.
      keyboard.append(split.end().answer);
      // The conversation keeps the reply as the model wrote it, with the block the prompt opened.
      const written = opened + result.completion;
      // The GPU failed mid-reply and the engine finished on the CPU: the reply
      // is whole, but the user must know why the next ones are slower.
      if (result.fallback !== null) this.ctx.warn(`the GPU failed, so this reply and the next run on the CPU: ${result.fallback}`);
      const measured = !(result.stop === 'cancelled' && result.tokens === 0);
      const hostMs = calledAt - trigger.at;
      const timings: ReplyTimings | null = measured
        ? {
            ttft_ms: result.ttftMs,
            prefill_ms: result.prefillMs,
            decode_tok_s: result.decodeTokS,
            prompt_tokens: result.promptTokens,
            cached_tokens: result.cachedTokens,
            tokens: result.tokens,
            host_ms: hostMs,
            link_ms: trigger.linkMs,
            // The model may end at once (EOS first): no token event, but a measured first sample.
            e2e_ms: firstAt !== null ? firstAt - trigger.at : hostMs + result.ttftMs,
            first_at_ms: firstAtClock,
            stages_ms: result.stagesMs ? { ...result.stagesMs } : null,
          }
        : null;
      keyboard.finish();
      // What the press still holds goes first (its saves among it): the question is written before the answer.
      this.flushWaiting();
      this.chat.answered(press, pressId, { completion: result.completion === '' ? '' : written, stop: result.stop, promptTokens: result.promptTokens, cachedTokens: result.cachedTokens });
      this.finish(pressId, { completion: split.answer, thinking: split.thinking, stop: result.stop, timings });
      this.ctx.finished({
        press_id: pressId,
        t_ms: trigger.epochMs,
        source,
        prompt: text,
        completion: written,
        stop: result.stop,
        model: result.model,
        backend: result.backend,
        timings,
      });
    } catch (e) {
      tokens.flush();
      keyboard.finish();
      if (e instanceof CancelledBeforeStart) {
        this.finish(pressId, { completion: '', thinking: '', stop: 'cancelled', timings: null });
        return;
      }
      const message = e instanceof Error ? e.message : String(e);
      this.release(pressId);
      if (this.reply?.press_id === pressId) {
        this.reply.done = true;
        this.reply.error = message;
      }
      this.emit('reply.error', { press_id: pressId, message });
      this.message = message;
      this.setState('error');
    }
  }

  /** The local engine's reply: the prompt rendered by the model's template, fitted to its context, its K/V kept per conversation. */
  private async localReply(press: ChatPress, text: string, settings: Settings, on: ReplyCallbacks, opened: (tag: string) => void): Promise<EngineReply> {
    const model = this.ctx.model();
    if (model === null) throw new Error('no model chosen: pick one in Settings, or start with --model');
    const config = engineConfig(model, settings);
    this.ctx.kv.enter(config, press.conversationId);
    const { result, model: info, backend } = await this.ctx.engine.generate(
      config,
      (t) => {
        const r = this.chat.prompt(press, this.prompts(t, settings), this.chat.persona(press, settings), text, t, settings.max_tokens);
        opened(r.thinkingOpened);
        return {
          prefix: r.prefix,
          request: { prompt: r.prompt, addBos: r.addBos, parseSpecial: r.parseSpecial, maxTokens: settings.max_tokens, ...this.chat.sampling(press, settings), seed: settings.seed },
        };
      },
      on,
    );
    this.ctx.kv.ran(press.conversationId);
    return { ...result, tokens: result.tokens.length, model: info.name, backend: backend.name };
  }

  /**
   * A remote engine's reply: the conversation as chat messages (the server
   * applies its own template), streamed and timed as it arrives. Thinking the
   * server sends apart (reasoning_content) is put back between the tags, so
   * the reply goes the same way as a local model's; an earlier reply's
   * thinking is not sent back. A conversation over the server's context
   * loses its older half of turns and is asked again, as often as it takes;
   * the conversation then starts where the kept turns do (Chat.keepLast).
   */
  private async remoteReply(remote: RemoteEngine, press: ChatPress, text: string, settings: Settings, on: ReplyCallbacks): Promise<EngineReply> {
    const persona = this.chat.persona(press, settings);
    const sampling = this.chat.sampling(press, settings);
    let turns: ChatMessage[] = this.chat.history(press).turns.map((t) => ({ role: t.role, content: t.role === 'assistant' ? splitThinking(t.content).answer : t.content }));
    const before = turns.length;
    on.onStart();
    const startedAt = performance.now();
    for (;;) {
      const messages: ChatMessage[] = [...(persona !== '' ? [{ role: 'system' as const, content: persona }] : []), ...turns, { role: 'user', content: text }];
      const raw = new TaggedThinking();
      let index = 0;
      try {
        const r = await remote.run(
          { input: { kind: 'chat', messages }, model: null, maxTokens: settings.max_tokens, ...sampling, seed: settings.seed, stop: [], thinking: settings.thinking },
          {
            onDelta: (d) => {
              on.onToken({ index: index++, text: raw.push(d), tMs: performance.now() - startedAt });
            },
          },
          on.signal,
        );
        if (turns.length < before) this.chat.keepLast(press, turns.length);
        return {
          completion: raw.text,
          tokens: r.completionTokens,
          promptTokens: r.promptTokens,
          cachedTokens: r.cachedTokens,
          ttftMs: r.ttftMs ?? r.totalMs,
          prefillMs: r.ttftMs ?? r.totalMs,
          decodeTokS: r.decodeTokS,
          stop: r.stop,
          fallback: null,
          stagesMs: null,
          model: r.model,
          backend: 'remote',
        };
      } catch (e) {
        if (!isContextOverflow(e) || index > 0 || turns.length === 0) throw e;
        turns = turns.slice(Math.ceil(turns.length / 2));
        // Chat templates want the user first.
        while (turns[0]?.role === 'assistant') turns = turns.slice(1);
      }
    }
  }

  private finish(pressId: string, r: { completion: string; thinking: string; stop: StopReason; timings: ReplyTimings | null }): void {
    this.release(pressId);
    if (this.reply?.press_id === pressId) {
      Object.assign(this.reply, { done: true, stop: r.stop, timings: r.timings, text: r.completion, thinking: r.thinking });
    }
    this.emit('reply.done', { press_id: pressId, ...r });
    this.setState('idle');
  }

  /**
   * Renders the prompt the release would send, while the key is held (the
   * builder keeps it), so the release finds it ready: a chat template costs
   * a millisecond or more that a press would otherwise wait for. Only with
   * the model loaded; a template that fails says so at release.
   */
  private prepare(): void {
    const model = this.ctx.model();
    if (model === null || this.ctx.remote() !== null) return;
    const settings = this.ctx.settings();
    const t = this.ctx.engine.loadedTemplate(engineConfig(model, settings));
    if (t === null) return;
    const text = this.typed.trim() !== '' ? this.typed.trim() : settings.default_prompt;
    try {
      const next = this.chat.next();
      this.prompts(t, settings).render(this.chat.persona(next, settings), text, this.chat.history(next));
    } catch {
      // said at release, where the press fails with it
    }
  }

  /** Prefills the persona while the key is held; a failure shows at release, when the press needs the engine. */
  private warm(): void {
    const model = this.ctx.model();
    if (model === null || this.ctx.remote() !== null) return;
    const settings = this.ctx.settings();
    const next = this.chat.next();
    const history = this.chat.history(next);
    const persona = this.chat.persona(next, settings);
    const config = engineConfig(model, settings);
    this.ctx.kv.enter(config, next.conversationId);
    this.ctx.engine.warm(config, (t) => this.prompts(t, settings).prefix(persona, history)).then(
      () => this.ctx.kv.ran(next.conversationId),
      () => undefined,
    );
  }

  private prompts(t: { chatTemplate: string; bosToken: string; eosToken: string }, settings: Settings): PromptBuilder {
    const key = JSON.stringify([t.chatTemplate, t.bosToken, t.eosToken, settings.thinking]);
    if (this.builder?.template !== key) {
      const builder = new PromptBuilder(t, { thinking: settings.thinking });
      if (builder.templateProblem !== null) this.ctx.warn(builder.templateProblem);
      this.builder = { template: key, builder };
    }
    return this.builder.builder;
  }

  // ---- state ----

  private newPressId(): string {
    this.pressCount++;
    return `p${Date.now().toString(36)}-${this.pressCount}`;
  }

  private setKey(down: boolean, source: PressSource): void {
    this.key = { down, source, t_ms: Date.now() };
    this.emit('key', { ...this.key });
  }

  private setState(state: SessionState): void {
    this.flushWaiting(); // an older press's held LED change must not land after this one
    this.state = state;
    this.notify(() => this.ctx.setLed(state));
    this.emitSession();
  }

  private emitSession(): void {
    this.emit('session', this.status());
  }

  // ---- what the UI and the keyboard hear, and when ----

  private emit<E extends EventName>(name: E, payload: EventOf<E>): void {
    // A token goes ahead of the state changes still waiting (it is what they wait for);
    // anything else goes after them, so the UI hears the states in order.
    if (name !== 'reply.token' && name !== 'reply.start') this.flushWaiting();
    this.notify(() => this.ctx.events.emit(name, payload));
  }

  /**
   * Sends an event now, or, while a press's held notifications wait for its
   * first token, after them: a saved turn is news, but not before the reply's first word.
   */
  private emitAfterPress<E extends EventName>(name: E, payload: EventOf<E>): void {
    if (this.waiting !== null) this.waiting.fns.push(() => this.ctx.events.emit(name, payload));
    else if (this.held !== null) this.held.push(() => this.ctx.events.emit(name, payload));
    else this.ctx.events.emit(name, payload);
  }

  /** Runs now, or, while a press is being sent, once the engine call has started. */
  private notify(fn: () => void): void {
    if (this.held !== null) this.held.push(fn);
    else fn();
  }

  /**
   * Runs a release (or another trigger) so that the press reaches the engine
   * first, and its first token the UI first: what the press causes is held
   * while it is sent. `reply.start` (which the UI needs before any token)
   * goes in a microtask queued after the body, which is after the engine's
   * own (EngineService.generate starts the engine in the first microtask
   * when a model is loaded). The rest (the key's state, the session's, the
   * LED) waits for the first token or a display frame, whichever comes
   * first: a window redrawing itself for the release would make the first
   * token wait behind that work (scripts/bench-press.ts measured 10-15 ms
   * for a model whose first token takes 0.2 ms), and no one sees a state
   * that lasts less than a frame. The conversation's saves wait with them
   * (ConversationStore.holdWrites): the turn is in memory at once, on disk a
   * frame later at most.
   */
  private sending<T>(body: () => T): T {
    if (this.held !== null) return body();
    this.held = [];
    this.startNotices = [];
    const releaseWrites = this.ctx.conversations.holdWrites();
    try {
      return body();
    } finally {
      this.held.push(releaseWrites);
      const held = this.held;
      const start = this.startNotices;
      this.held = null;
      this.startNotices = null;
      if (start.length > 0) queueMicrotask(() => start.forEach((fn) => fn()));
      // Never empty (the saves' release is in it): it always waits, a frame at most.
      this.flushWaiting();
      const timer = setTimeout(() => this.flushWaiting(), TOKEN_FRAME_MS);
      this.waiting = { fns: held, timer };
    }
  }

  /** Sends the state changes a press held back (sending()), in order. */
  private flushWaiting(): void {
    const w = this.waiting;
    if (w === null) return;
    this.waiting = null;
    clearTimeout(w.timer);
    for (const fn of w.fns) fn();
  }
}

/** What the session needs of a reply, whichever engine wrote it. */
interface EngineReply {
  /** The generated text, as the model wrote it. */
  completion: string;
  tokens: number;
  promptTokens: number;
  cachedTokens: number;
  ttftMs: number;
  prefillMs: number;
  decodeTokS: number;
  stop: StopReason;
  /** Why the GPU failed mid-reply and the CPU finished it; null if it did not. */
  fallback: string | null;
  stagesMs: NativeStageTimes | null;
  model: string;
  backend: string;
}

/** How an engine's reply reaches the session: the engine call begins, then each token's text. */
interface ReplyCallbacks {
  signal: AbortSignal;
  onStart(): void;
  /** What it returns, the local engine may hold the next tokens for (ms). */
  onToken(e: { index: number; text: string; tMs: number }): number;
}

/** A remote's answer and thinking, sent apart, as one text with the thinking between its tags (as a local model writes it). */
class TaggedThinking {
  private inside = false;
  text = '';

  push(d: { content: string; reasoning: string }): string {
    let out = '';
    if (d.reasoning !== '') {
      if (!this.inside) out += THINK_OPEN;
      this.inside = true;
      out += d.reasoning;
    }
    if (d.content !== '') {
      if (this.inside) out += THINK_CLOSE;
      this.inside = false;
      out += d.content;
    }
    this.text += out;
    return out;
  }
}

function now(linkMs: number | null): Trigger {
  // Clock-sync estimates can land a hair below zero for a same-machine keyboard.
  return { at: performance.now(), epochMs: Date.now(), linkMs: linkMs === null ? null : Math.max(0, linkMs) };
}
