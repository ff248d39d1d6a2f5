// The app's own engine behind the OpenAI-compatible API. A chat is rendered
// as a key press's prompt is (prompt.ts: the model's chat template, or the
// plain "User:/Assistant:" layout for a model without one), with the
// request's system messages as the persona, its earlier messages as the
// history and its last (the user's) as the new text; the run goes through
// EngineService.generate, the queue key presses use, so the two take turns
// and never share a generation.
//
// The engine keeps one K/V cache. Before a request runs, `beforeRun` lets
// the app save the conversation whose K/V the engine holds (its .kmkv file,
// conversation-cache.ts), so the press that follows gets it back rather than
// the API's tokens.
//
// A request leaves unset what the app's settings say: max_tokens, the
// sampling, the seed; a reasoning model thinks as the settings say, and its
// thinking comes apart from the answer (common/thinking.ts), as in the app.
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';

import type { Settings } from '../../../common/contract';
import type { ChatMessage, CompletionRequest } from '../../../common/openai';
import { ThinkingSplit } from '../../../common/thinking';
import { CancelledBeforeStart, type EngineService, type PromptModel, engineConfig } from '../services/engine-service';
import { type ChatTurn, PromptBuilder } from '../session/prompt';
import { badRequest, unavailable } from './api-error';
import type { CompletionEngine, CompletionEvents, CompletionOutcome, ServedModel } from './completion-engine';
import { LeftTheQueue } from './request-queue';

export interface LocalEngineOptions {
  engine: EngineService;
  /** The model file the app runs (the command line's or the settings'), or null. */
  model(): string | null;
  /** The settings a request's unset fields come from. */
  settings(): Settings;
  /** Runs before each request's engine call (the app saves the K/V of the conversation it leaves). */
  beforeRun?: () => Promise<void>;
}

/** What a client names the model: its file's name without ".gguf". */
export function modelId(file: string): string {
  return path.basename(file).replace(/\.gguf$/i, '');
}

export class LocalCompletionEngine implements CompletionEngine {
  private builder: { key: string; builder: PromptBuilder } | null = null;

  constructor(private readonly o: LocalEngineOptions) {}

  models(): ServedModel[] {
    const file = this.o.model();
    if (file === null) return [];
    const mtime = fs.statSync(file, { throwIfNoEntry: false })?.mtimeMs ?? 0;
    return [{ id: modelId(file), created: Math.floor(mtime / 1000), ownedBy: 'keymate' }];
  }

  async complete(request: CompletionRequest, events: CompletionEvents, signal: AbortSignal): Promise<CompletionOutcome> {
    const file = this.o.model();
    if (file === null) throw unavailable("no model is loaded: choose one in the app's Settings, or start keymate serve with --model", 'model_not_loaded');
    const settings = this.o.settings();
    const config = engineConfig(file, settings);
    await this.o.beforeRun?.();
    let split: ThinkingSplit | null = null;
    const topP = request.topP !== null && request.topP > 0 ? request.topP : settings.top_p;
    // top_p 0 keeps the most likely token alone: greedy.
    const temperature = request.topP === 0 ? 0 : (request.temperature ?? settings.temperature);
    try {
      const { result } = await this.o.engine.generate(
        config,
        (t) => {
          const r = this.render(t, request.input, settings);
          const promptTokens = t.count(r.prompt, r.addBos, r.parseSpecial);
          if (promptTokens >= t.context) {
            throw badRequest(
              `the prompt is ${promptTokens} tokens, but the model's context holds ${t.context} (one more is needed to reply)`,
              request.input.kind === 'chat' ? 'messages' : 'prompt',
              'context_length_exceeded',
            );
          }
          split = request.input.kind === 'chat' ? new ThinkingSplit(r.thinkingOpened !== '') : null;
          return {
            // The persona prefix the app warms is not what this prompt starts with: nothing to claim.
            prefix: '',
            request: {
              prompt: r.prompt,
              addBos: r.addBos,
              parseSpecial: r.parseSpecial,
              maxTokens: Math.min(request.maxTokens ?? settings.max_tokens, t.context - promptTokens),
              temperature,
              topK: request.topK ?? settings.top_k,
              topP,
              seed: request.seed ?? settings.seed,
            },
          };
        },
        {
          signal,
          onStart: () => events.onStart(),
          onToken: (e) => {
            const part = split === null ? { answer: e.text, thinking: '' } : split.push(e.text);
            if (part.answer !== '' || part.thinking !== '') events.onDelta({ content: part.answer, reasoning: part.thinking });
          },
        },
      );
      const rest = (split as ThinkingSplit | null)?.end();
      if (rest !== undefined && (rest.answer !== '' || rest.thinking !== '')) events.onDelta({ content: rest.answer, reasoning: rest.thinking });
      return {
        stop: result.stop === 'eos' ? 'eos' : result.stop === 'cancelled' ? 'cancelled' : 'length',
        promptTokens: result.promptTokens,
        cachedTokens: result.cachedTokens,
        completionTokens: result.tokens.length,
      };
    } catch (e) {
      // Its client left while a key press had the engine: nothing ran.
      if (e instanceof CancelledBeforeStart) throw new LeftTheQueue();
      throw e;
    }
  }

  /** The prompt of a request: a chat through the prompt builder the app uses, a text as it is. */
  private render(t: PromptModel, input: CompletionRequest['input'], settings: Settings): { prompt: string; addBos: boolean; parseSpecial: boolean; thinkingOpened: string } {
    if (input.kind === 'text') return { prompt: input.prompt, addBos: true, parseSpecial: true, thinkingOpened: '' };
    const { persona, history, text } = chatParts(input.messages);
    const key = createHash('sha256').update(JSON.stringify(history)).digest('base64url');
    try {
      return this.prompts(t, settings).render(persona, text, { key, turns: history });
    } catch (e) {
      throw badRequest(`messages: ${e instanceof Error ? e.message : String(e)}`, 'messages', 'template_error');
    }
  }

  private prompts(t: PromptModel, settings: Settings): PromptBuilder {
    const key = JSON.stringify([t.chatTemplate, t.bosToken, t.eosToken, settings.thinking]);
    if (this.builder?.key !== key) this.builder = { key, builder: new PromptBuilder(t, { thinking: settings.thinking }) };
    return this.builder.builder;
  }
}

/**
 * A chat as the prompt builder takes it: every system message, wherever it
 * is, in the persona (in order, a blank line apart); the user's and the
 * assistant's before the last as the history; the last (the user's) as the text.
 */
export function chatParts(messages: readonly ChatMessage[]): { persona: string; history: ChatTurn[]; text: string } {
  const persona = messages
    .filter((m) => m.role === 'system')
    .map((m) => m.content)
    .join('\n\n');
  const turns = messages.filter((m) => m.role !== 'system') as { role: 'user' | 'assistant'; content: string }[];
  const last = turns.at(-1);
  if (last === undefined || last.role !== 'user') throw badRequest("messages: the last message must be the user's (role \"user\")", 'messages');
  return { persona, history: turns.slice(0, -1).map((m) => ({ role: m.role, content: m.content })), text: last.content };
}
