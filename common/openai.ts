// The OpenAI API's wire format, as far as Keymate speaks it: the request
// bodies of /v1/chat/completions and /v1/completions as zod schemas (what a
// client sends is checked here, and a bad field is named in one line), and the
// shapes of what comes back (completions, stream chunks, the model list, the
// error body). The server (electron/host/api/) answers in these shapes; an
// engine that is itself an OpenAI-compatible server would be asked in them.
//
// Field names are the API's own (snake_case); inside the host a request
// becomes a CompletionRequest (camelCase) in one place, parseChat/parseText.
// Fields the API has and Keymate ignores (user, metadata, store, ...) are
// dropped; the ones whose meaning it cannot honour (n > 1, tools, logprobs,
// a JSON response format) are refused, so a client never gets an answer to a
// question it did not ask.
import { z } from 'zod';

import { describeProblem, formatPath } from './contract/errors';
import { quoted } from './printable';

/** OpenAI accepts at most four stop sequences. */
export const MAX_STOP_SEQUENCES = 4;

const maxTokens = z.number().int().min(1).nullish();
const stop = z.union([z.string().min(1), z.array(z.string().min(1)).max(MAX_STOP_SEQUENCES)], { error: 'expected a string or an array of strings' }).nullish();

/** What both endpoints share: sampling and stopping. */
const sampling = {
  model: z.string(),
  max_tokens: maxTokens,
  temperature: z.number().min(0).max(2).nullish(),
  top_p: z.number().min(0).max(1).nullish(),
  /** Not OpenAI's; llama.cpp's server and vLLM take it too. */
  top_k: z.number().int().min(0).nullish(),
  seed: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER).nullish(),
  stop,
  stream: z.boolean().nullish(),
  stream_options: z.object({ include_usage: z.boolean().nullish() }).nullish(),
  n: z.number().int().min(1).nullish(),
  logprobs: z.union([z.boolean(), z.number()]).nullish(),
};

const contentPart = z.object({ type: z.string(), text: z.string().optional() });

const message = z.object({
  role: z.enum(['system', 'developer', 'user', 'assistant', 'tool', 'function']),
  content: z.union([z.string(), z.array(contentPart), z.null()], { error: 'expected a string or an array of content parts' }).optional(),
});

export const chatCompletionRequest = z.object({
  ...sampling,
  messages: z.array(message).min(1),
  /** OpenAI's newer name for max_tokens; either may be given. */
  max_completion_tokens: maxTokens,
  tools: z.array(z.unknown()).nullish(),
  functions: z.array(z.unknown()).nullish(),
  response_format: z.object({ type: z.string() }).nullish(),
});

export const textCompletionRequest = z.object({
  ...sampling,
  prompt: z.union([z.string(), z.array(z.string())], { error: 'expected a string or an array of one string (token arrays are not supported)' }),
  echo: z.boolean().nullish(),
  suffix: z.string().nullish(),
  best_of: z.number().int().min(1).nullish(),
});

export type ChatCompletionRequestBody = z.infer<typeof chatCompletionRequest>;
export type TextCompletionRequestBody = z.infer<typeof textCompletionRequest>;

/** A chat message as the engine reads it: text only, the system's and the developer's folded into one role. */
export interface ChatMessage {
  role: 'system' | 'user' | 'assistant';
  content: string;
}

/** A request as the engine runs it, whichever endpoint it came from. */
export interface CompletionRequest {
  /** The name the client asked for (an id or an alias). */
  model: string;
  input: { kind: 'chat'; messages: ChatMessage[] } | { kind: 'text'; prompt: string };
  /** Null: the app's own setting. */
  maxTokens: number | null;
  temperature: number | null;
  topP: number | null;
  topK: number | null;
  seed: number | null;
  stop: string[];
  stream: boolean;
  includeUsage: boolean;
}

/** A request the API refuses, with the field at fault (the error body's `param`). */
export class InvalidRequest extends Error {
  override readonly name = 'InvalidRequest';
  constructor(
    message: string,
    readonly param: string | null,
    readonly code: string | null = null,
  ) {
    super(message);
  }
}

export function parseChat(body: unknown): CompletionRequest {
  const r = validate(chatCompletionRequest, body);
  refuseUnsupported(r);
  if ((r.tools?.length ?? 0) > 0 || (r.functions?.length ?? 0) > 0) throw unsupported(r.tools ? 'tools' : 'functions', 'not supported (no tool or function calls)');
  if (r.response_format && r.response_format.type !== 'text') throw unsupported('response_format', `${quoted(r.response_format.type)} is not supported (only "text")`);
  const messages = r.messages.map((m, i): ChatMessage => {
    if (m.role === 'tool' || m.role === 'function') throw unsupported(`messages[${i}].role`, `"${m.role}" is not supported (no tools)`);
    return { role: m.role === 'developer' ? 'system' : m.role, content: contentText(m.content, i) };
  });
  if (messages.at(-1)?.role !== 'user') throw new InvalidRequest(`messages: the last message must be the user's (role "user"), got "${messages.at(-1)?.role ?? ''}"`, 'messages');
  return common(r, r.max_completion_tokens ?? r.max_tokens, { kind: 'chat', messages });
}

export function parseText(body: unknown): CompletionRequest {
  const r = validate(textCompletionRequest, body);
  refuseUnsupported(r);
  if (r.echo === true) throw unsupported('echo', 'not supported');
  if ((r.suffix ?? '') !== '') throw unsupported('suffix', 'not supported (no fill-in-the-middle)');
  if ((r.best_of ?? 1) > 1) throw unsupported('best_of', 'only 1 is supported');
  if (Array.isArray(r.prompt) && r.prompt.length !== 1) throw new InvalidRequest(`prompt: one prompt per request (got ${r.prompt.length})`, 'prompt');
  const prompt = Array.isArray(r.prompt) ? (r.prompt[0] ?? '') : r.prompt;
  return common(r, r.max_tokens, { kind: 'text', prompt });
}

function common(r: z.infer<typeof chatCompletionRequest> | z.infer<typeof textCompletionRequest>, max: number | null | undefined, input: CompletionRequest['input']): CompletionRequest {
  return {
    model: r.model,
    input,
    maxTokens: max ?? null,
    temperature: r.temperature ?? null,
    topP: r.top_p ?? null,
    topK: r.top_k ?? null,
    seed: r.seed ?? null,
    stop: typeof r.stop === 'string' ? [r.stop] : (r.stop ?? []),
    stream: r.stream ?? false,
    includeUsage: r.stream_options?.include_usage ?? false,
  };
}

function refuseUnsupported(r: { n?: number | null; logprobs?: boolean | number | null }): void {
  if ((r.n ?? 1) > 1) throw unsupported('n', 'only 1 is supported (one completion per request)');
  if ((r.logprobs ?? false) !== false) throw unsupported('logprobs', 'not supported');
}

function unsupported(param: string, message: string): InvalidRequest {
  return new InvalidRequest(`${param}: ${message}`, param, 'unsupported_parameter');
}

function contentText(content: string | { type: string; text?: string | undefined }[] | null | undefined, i: number): string {
  if (content === null || content === undefined) return '';
  if (typeof content === 'string') return content;
  return content
    .map((part, k) => {
      if (part.type !== 'text') throw unsupported(`messages[${i}].content[${k}].type`, `${quoted(part.type)} is not supported (text only)`);
      if (part.text === undefined) throw new InvalidRequest(`messages[${i}].content[${k}].text: expected string, missing`, `messages[${i}].content[${k}].text`);
      return part.text;
    })
    .join('');
}

/** The body as `schema` says, or one line naming the first field at fault. */
function validate<S extends z.ZodType>(schema: S, body: unknown): z.infer<S> {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new InvalidRequest(`the body must be a JSON object, got ${Array.isArray(body) ? 'an array' : body === null ? 'null' : typeof body}`, null);
  const r = schema.safeParse(body);
  if (r.success) return r.data;
  const issue = r.error.issues[0];
  if (issue === undefined) throw new InvalidRequest('invalid request', null);
  const param = issue.path.length === 0 ? null : formatPath(issue.path);
  // A union's own message says what it takes; zod's generic one would not.
  const problem = issue.code === 'invalid_union' ? issue.message : issue.code === 'too_small' && issue.origin === 'array' && issue.minimum === 1 ? 'must not be empty' : describeProblem(issue, body);
  throw new InvalidRequest(`${param ?? 'body'}: ${problem}`, param);
}

// ---- what comes back ----

export type FinishReason = 'stop' | 'length';

export interface Usage {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
  prompt_tokens_details: { cached_tokens: number };
}

export interface ChatCompletion {
  id: string;
  object: 'chat.completion';
  created: number;
  model: string;
  choices: {
    index: number;
    message: { role: 'assistant'; content: string; reasoning_content?: string };
    logprobs: null;
    finish_reason: FinishReason;
  }[];
  usage: Usage;
}

export interface ChatCompletionChunk {
  id: string;
  object: 'chat.completion.chunk';
  created: number;
  model: string;
  choices: {
    index: number;
    delta: { role?: 'assistant'; content?: string; reasoning_content?: string };
    logprobs: null;
    finish_reason: FinishReason | null;
  }[];
  usage?: Usage | null;
}

export interface TextCompletion {
  id: string;
  object: 'text_completion';
  created: number;
  model: string;
  choices: { index: number; text: string; logprobs: null; finish_reason: FinishReason | null }[];
  usage?: Usage | null;
}

/** One entry of /v1/models (the API calls it a model object; the contract's ModelEntry is the app's own). */
export interface ModelObject {
  id: string;
  object: 'model';
  /** Unix seconds. */
  created: number;
  owned_by: string;
}

export interface ModelList {
  object: 'list';
  data: ModelObject[];
}

/** Every error, whatever its status: `{"error": {...}}`. */
export interface ErrorBody {
  error: { message: string; type: string; param: string | null; code: string | null };
}
