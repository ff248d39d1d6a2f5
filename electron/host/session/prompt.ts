// From the conversation and the user's new text to the prompt the engine
// runs. A model with a chat template in its GGUF (tokenizer.chat_template)
// gets it rendered by @huggingface/jinja, as the model's authors meant; a
// model without one (a base model such as TinyStories) gets a plain layout:
//   {persona}\n\nUser: {earlier}\nAssistant: {its reply}\nUser: {text}\nAssistant:
//
// Everything before the new text must be the same leading text as the last
// prompt plus its reply, so the engine's prefix cache keeps its KV from turn
// to turn and a press prefills only its own tokens. Rather than guess where a
// template puts the new turn, `prefix` renders the template with two
// different user texts and takes what they share: whatever the template
// does, that text is common to every press that continues this history.
//
// Templates that refuse a system message (some raise_exception on it) get the
// persona folded into the user's message instead.
//
// Reasoning models: the template gets `enable_thinking` as the settings say
// (Qwen3's and SmolLM3's templates read it; llama.cpp's copies of QwQ's and
// R1's too, and those close the block unless it is true, so it is passed
// either way). A template that opens a <think> block in the generation
// prompt (Qwen3.5, QwQ, R1) says so in `thinkingOpened`: the reply then
// begins inside the thinking.
//
// Rendering a chat template takes a millisecond or more, and a press waits for
// it: so the prefix is rendered once per persona, and the last few prompts
// are kept, which lets the session render a press's prompt while the key is
// still held (KeySession.prepare) and find it ready at release.
import { Template } from '@huggingface/jinja';

import { openedThinking } from '../../../common/thinking';
import type { TemplateInfo } from '../services/engine-service';

export interface RenderedPrompt {
  prompt: string;
  /** The part every press with this persona shares (what the prefix cache keeps). */
  prefix: string;
  /** False when the template writes BOS itself (the engine must not add a second one). */
  addBos: boolean;
  /** A chat template's special-token text ("<|im_start|>") becomes the token; a user's plain text never does. */
  parseSpecial: boolean;
  template: 'chat' | 'plain';
  /** The thinking block the generation prompt opens ("<think>\n"), so the reply begins inside it; '' when none. */
  thinkingOpened: string;
}

export interface PromptOptions {
  /** Passed to the template as enable_thinking (default true): false asks a reasoning model to answer without thinking. */
  thinking?: boolean;
}

interface Message {
  role: 'system' | 'user' | 'assistant';
  content: string;
}

/** An earlier turn the model sees. */
export interface ChatTurn {
  role: 'user' | 'assistant';
  content: string;
}

/** The turns before the new text; `key` names them exactly (the same key, the same turns). */
export interface History {
  key: string;
  turns: readonly ChatTurn[];
}

export const NO_HISTORY: History = { key: '', turns: [] };

/** Prompts kept: the one being typed, the default prompt, and a few more. */
const KEPT_PROMPTS = 4;

export class PromptBuilder {
  private readonly template: Template | null;
  private readonly prefixes = new Map<string, string>();
  private readonly prompts = new Map<string, RenderedPrompt>();
  /** Set when the template failed to parse: the plain layout is used, and this says why. */
  readonly templateProblem: string | null = null;

  private readonly thinking: boolean;

  constructor(
    private readonly info: TemplateInfo,
    options: PromptOptions = {},
  ) {
    this.thinking = options.thinking ?? true;
    let template: Template | null = null;
    if (info.chatTemplate.trim() !== '') {
      try {
        template = new Template(info.chatTemplate);
      } catch (e) {
        this.templateProblem = `the model's chat template cannot be parsed (${e instanceof Error ? e.message : String(e)}); using the plain layout`;
      }
    }
    this.template = template;
  }

  get kind(): 'chat' | 'plain' {
    return this.template === null ? 'plain' : 'chat';
  }

  render(persona: string, text: string, history: History = NO_HISTORY): RenderedPrompt {
    const key = `${persona}\u0000${history.key}\u0000${text}`;
    const kept = this.prompts.get(key);
    if (kept !== undefined) return kept;
    const prompt = this.text(persona, history.turns, text);
    const prefixKey = `${persona}\u0000${history.key}`;
    let prefix = this.prefixes.get(prefixKey);
    if (prefix === undefined) {
      prefix = commonPrefix(this.text(persona, history.turns, '\u0001'), this.text(persona, history.turns, '\u0002'));
      this.prefixes.clear(); // one conversation at a time: the next turn's replaces it
      this.prefixes.set(prefixKey, prefix);
    }
    const bos = this.info.bosToken;
    const addBos = !(this.template !== null && bos !== '' && prompt.startsWith(bos));
    const thinkingOpened = this.template === null ? '' : openedThinking(prompt);
    const r: RenderedPrompt = { prompt, prefix, addBos, parseSpecial: this.kind === 'chat', template: this.kind, thinkingOpened };
    if (this.prompts.size >= KEPT_PROMPTS) this.prompts.delete(this.prompts.keys().next().value as string);
    this.prompts.set(key, r);
    return r;
  }

  /** What comes before the new text (persona and history), for warming the cache before the text is known. */
  prefix(persona: string, history: History = NO_HISTORY): { prefix: string; addBos: boolean; parseSpecial: boolean } {
    const r = this.render(persona, '\u0001', history);
    return { prefix: r.prefix, addBos: r.addBos, parseSpecial: r.parseSpecial };
  }

  private text(persona: string, history: readonly ChatTurn[], text: string): string {
    if (this.template === null) return plain(persona, text, history);
    const turns: Message[] = [...history, user(text)];
    try {
      return this.withPersona(persona, turns);
    } catch (e) {
      // A template whose roles must start with the user's (Gemma's) refuses a character's
      // greeting before the first question: the model then reads the exchange without it.
      if (turns[0]?.role !== 'assistant') throw e;
      return this.withPersona(persona, turns.slice(1));
    }
  }

  /** The persona as a system turn, or, for a template that refuses one, folded into the first user turn. */
  private withPersona(persona: string, turns: Message[]): string {
    const withSystem: Message[] = persona.trim() === '' ? turns : [{ role: 'system', content: persona }, ...turns];
    try {
      return this.renderMessages(withSystem);
    } catch {
      try {
        const first = turns.findIndex((m) => m.role === 'user');
        const folded = turns.map((m, i) => (i === first && persona.trim() !== '' ? { role: m.role, content: `${persona}\n\n${m.content}` } : m));
        return this.renderMessages(folded);
      } catch (e) {
        throw new Error(`chat template: cannot render: ${e instanceof Error ? e.message : String(e)}`);
      }
    }
  }

  private renderMessages(messages: Message[]): string {
    if (this.template === null) throw new Error('no template');
    return this.template.render({
      messages,
      add_generation_prompt: true,
      bos_token: this.info.bosToken,
      eos_token: this.info.eosToken,
      enable_thinking: this.thinking,
    });
  }
}

export function plain(persona: string, text: string, history: readonly ChatTurn[] = []): string {
  let out = persona.trim() === '' ? '' : `${persona}\n\n`;
  for (const t of history) {
    // A reply goes back exactly as the model wrote it (its leading space included), so the
    // text re-reads as the tokens the cache holds.
    if (t.role === 'user') out += `User: ${t.content}\n`;
    else out += `Assistant:${/^\s/.test(t.content) ? '' : ' '}${t.content}\n`;
  }
  return `${out}User: ${text}\nAssistant:`;
}

function user(content: string): Message {
  return { role: 'user', content };
}

export function commonPrefix(a: string, b: string): string {
  let i = 0;
  while (i < a.length && i < b.length && a.charCodeAt(i) === b.charCodeAt(i)) i++;
  // Never end between the two halves of a surrogate pair.
  if (i > 0 && i < a.length && isHighSurrogate(a.charCodeAt(i - 1))) i--;
  return a.slice(0, i);
}

function isHighSurrogate(c: number): boolean {
  return c >= 0xd800 && c <= 0xdbff;
}
