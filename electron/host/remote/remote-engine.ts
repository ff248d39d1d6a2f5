// A remote engine: an OpenAI-compatible server that answers in place of the
// local engine, for a model that outgrew the user's machine (DESIGN.md, "The
// app"). Key presses and the app's own API both run through `run`: a chat
// (or a text) streamed, with the first token and the decode timed from the
// stream as it arrives, the only honest measure of a server Keymate cannot
// look inside.
//
// What it is pointed at (the URL, the model, the key) is read afresh for
// every call (`target`), so a change in Settings takes effect at the next
// press; `check` asks the server what it serves, and its answer (or why there
// is none) is the status the UI shows.
import type { RemoteStatus } from '../../../common/contract';
import type { CompletionRequest } from '../../../common/openai';
import { OpenAiClient, RemoteError } from './openai-client';

export interface RemoteTarget {
  /** Canonical base URL (normalizeBaseUrl). */
  url: string;
  /** '' = the first model the server lists. */
  model: string;
  key: string | null;
  keySource: RemoteStatus['key'];
}

/**
 * A request as the API's (common/openai.ts; null sampling fields are left to
 * the server), but for the model (null: the target's, or the server's first)
 * and thinking.
 */
export interface RemoteRequest extends Pick<CompletionRequest, 'input' | 'maxTokens' | 'temperature' | 'topP' | 'topK' | 'seed' | 'stop'> {
  model: string | null;
  /** False asks a reasoning model to answer without thinking (the template's enable_thinking); null leaves it to the server. */
  thinking: boolean | null;
}

export interface RemoteEvents {
  /** The server answered and its stream begins. */
  onStart?(): void;
  /** A piece of the reply as it arrives: the answer, and a reasoning model's thinking when the server sends it apart. */
  onDelta(delta: { content: string; reasoning: string }): void;
}

export interface RemoteReply {
  model: string;
  /** eos: the model ended it; length: max_tokens or the server's context; cancelled: the signal stopped it. */
  stop: 'eos' | 'length' | 'cancelled';
  /** From the server's usage report; 0 when it sent none. */
  promptTokens: number;
  cachedTokens: number;
  /** The server's count, or the stream's messages when it sent none (servers send one per token). */
  completionTokens: number;
  /** Request sent to the first piece of reply (answer or thinking); null when none came. */
  ttftMs: number | null;
  decodeTokS: number;
  /** Request sent to the stream's end. */
  totalMs: number;
}

export interface RemoteEngineOptions {
  /** What it is pointed at now; null when the remote is off. */
  target(): RemoteTarget | null;
  /** Every status change (the 'remote' event). */
  emit(status: RemoteStatus): void;
  /** Where the key would come from, told even while the remote is off (Settings show it). */
  keySource?(): RemoteStatus['key'];
}

const OFF: RemoteStatus = { state: 'off', url: '', model: null, models: [], key: 'none', message: null };

export class RemoteEngine {
  private current: RemoteStatus = OFF;
  /** The check in progress, shared by whoever asks meanwhile. */
  private checking: { target: string; done: Promise<RemoteStatus> } | null = null;

  constructor(private readonly o: RemoteEngineOptions) {}

  /** Whether presses and the API go to the remote now. */
  get active(): boolean {
    return this.o.target() !== null;
  }

  status(): RemoteStatus {
    const t = this.o.target();
    if (t === null) return { ...OFF, key: this.o.keySource?.() ?? 'none' };
    // The settings changed since the last check: say what is known of the new target.
    if (this.current.url !== t.url) return checking(t);
    return { ...structuredClone(this.current), model: t.model !== '' ? t.model : (this.current.models[0] ?? null), key: t.keySource };
  }

  /** Asks the server what it serves; the answer, or why there is none, becomes the status. */
  check(): Promise<RemoteStatus> {
    const t = this.o.target();
    if (t === null) {
      this.set({ ...OFF });
      return Promise.resolve(this.status());
    }
    // A check shares its answer only with asks about the same target: a new key or model asks again.
    const id = targetId(t);
    if (this.checking?.target === id) return this.checking.done;
    this.set(checking(t));
    const done = this.client(t)
      .models()
      .then(
        (models) => {
          if (models.length === 0) return { state: 'error' as const, models, message: `${t.url} serves no models` };
          if (t.model !== '' && !models.includes(t.model)) return { state: 'error' as const, models, message: `${t.url} does not serve "${t.model}" (it serves ${models.map((m) => `"${m}"`).join(', ')})` };
          return { state: 'ready' as const, models, message: null };
        },
        (e: unknown) => ({ state: 'error' as const, models: [] as string[], message: e instanceof Error ? e.message : String(e) }),
      )
      .then((r) => {
        if (this.checking?.done === done) this.checking = null;
        // A newer target was chosen meanwhile: this answer is about the old one.
        const now = this.o.target();
        if (now !== null && targetId(now) === id) this.set({ ...r, url: t.url, model: null, key: t.keySource });
        return this.status();
      });
    this.checking = { target: id, done };
    return done;
  }

  /** One completion, streamed; rejects with a RemoteError when the server refuses or fails, with one line saying why. */
  async run(request: RemoteRequest, events: RemoteEvents, signal: AbortSignal): Promise<RemoteReply> {
    const t = this.o.target();
    if (t === null) throw new Error('the remote engine is off');
    // Timed from here: a first press that must ask for the model list waits for it too.
    const sentAt = performance.now();
    const model = request.model ?? (t.model !== '' ? t.model : await this.firstModel(t));
    const body: Record<string, unknown> = {
      model,
      stream_options: { include_usage: true },
      ...(request.maxTokens !== null && { max_tokens: request.maxTokens }),
      ...(request.temperature !== null && { temperature: request.temperature }),
      ...(request.topP !== null && { top_p: request.topP }),
      ...(request.topK !== null && request.topK > 0 && { top_k: request.topK }),
      ...(request.seed !== null && { seed: request.seed }),
      ...(request.stop.length > 0 && { stop: request.stop }),
      // vLLM, SGLang and llama.cpp's server pass this to the chat template; others ignore it.
      ...(request.thinking === false && request.input.kind === 'chat' && { chat_template_kwargs: { enable_thinking: false } }),
    };
    if (request.input.kind === 'chat') body['messages'] = request.input.messages;
    else body['prompt'] = request.input.prompt;

    let firstAt: number | null = null;
    let pieces = 0;
    let finish: string | null = null;
    let usage: Usage | null = null;
    let cancelled = false;
    try {
      await this.client(t).stream(
        request.input.kind === 'chat' ? 'chat/completions' : 'completions',
        body,
        {
          onOpen: () => events.onStart?.(),
          onChunk: (message) => {
          const m = message as StreamMessage;
          if (m.usage !== undefined && m.usage !== null) usage = m.usage;
          // llama.cpp's server reports its prefix cache in `timings`, not in usage.
          if (m.timings?.cache_n !== undefined) usage = { ...(usage ?? {}), cache_n: m.timings.cache_n };
          const choice = m.choices?.[0];
          if (choice === undefined) return;
          if (typeof choice.finish_reason === 'string') finish = choice.finish_reason;
          const content = choice.delta?.content ?? choice.text ?? '';
          const reasoning = choice.delta?.reasoning_content ?? choice.delta?.reasoning ?? '';
          if (typeof content !== 'string' || typeof reasoning !== 'string' || (content === '' && reasoning === '')) return;
          const now = performance.now();
          firstAt ??= now;
          pieces++;
          events.onDelta({ content, reasoning });
          },
        },
        signal,
      );
    } catch (e) {
      if (!signal.aborted) throw e;
      cancelled = true;
    }
    const u = usage as Usage | null;
    const completionTokens = u?.completion_tokens ?? pieces;
    // To the stream's end, not its last piece: a server that sends its tokens in bursts
    // (or a fast one, whose pieces share a read) must not look faster than it is.
    const endedAt = performance.now();
    const decodeMs = firstAt === null ? 0 : endedAt - firstAt;
    return {
      model,
      stop: cancelled ? 'cancelled' : finish === 'length' ? 'length' : 'eos',
      promptTokens: u?.prompt_tokens ?? 0,
      cachedTokens: u?.prompt_tokens_details?.cached_tokens ?? u?.cache_n ?? 0,
      completionTokens,
      ttftMs: firstAt === null ? null : firstAt - sentAt,
      decodeTokS: completionTokens > 1 && decodeMs > 0 ? ((completionTokens - 1) * 1000) / decodeMs : 0,
      totalMs: endedAt - sentAt,
    };
  }

  /** The server's first model, asking it when not known yet. */
  private async firstModel(t: RemoteTarget): Promise<string> {
    const known = this.current.url === t.url ? this.current.models[0] : undefined;
    if (known !== undefined) return known;
    const status = await this.check();
    const first = status.models[0];
    if (first === undefined) throw new RemoteError(status.message ?? `${t.url} serves no models`, null);
    return first;
  }

  private client(t: RemoteTarget): OpenAiClient {
    return new OpenAiClient({ baseUrl: t.url, apiKey: t.key });
  }

  private set(status: RemoteStatus): void {
    this.current = status;
    this.o.emit(this.status());
  }
}

/** What is known of a target while its server is asked: the chosen model, if any, and nothing else yet. */
function checking(t: RemoteTarget): RemoteStatus {
  return { state: 'checking', url: t.url, model: t.model !== '' ? t.model : null, models: [], key: t.keySource, message: null };
}

function targetId(t: RemoteTarget): string {
  return JSON.stringify([t.url, t.model, t.key]);
}

/** A 400 that says the prompt is over the server's context (vLLM, llama.cpp's server, OpenAI and Keymate word it each their own way). */
export function isContextOverflow(e: unknown): boolean {
  return e instanceof RemoteError && e.status === 400 && (/context/i.test(e.code ?? '') || /context|too long|maximum.*length/i.test(e.message));
}

interface Usage {
  prompt_tokens?: number;
  completion_tokens?: number;
  prompt_tokens_details?: { cached_tokens?: number } | null;
  cache_n?: number;
}

/** A chat or text completion chunk, as loosely as servers send them. */
interface StreamMessage {
  choices?: { delta?: { content?: string | null; reasoning_content?: string | null; reasoning?: string | null }; text?: string; finish_reason?: string | null }[];
  usage?: Usage | null;
  timings?: { cache_n?: number };
}
