// What the OpenAI-compatible server asks of whatever answers it: the models
// it serves, and one completion at a time, streamed. The local engine
// (local-engine.ts) renders a chat through the model's template and runs it
// in the app's engine; an engine that is itself an OpenAI-compatible server
// elsewhere would pass the messages on as they are. The server around it
// (openai-server.ts) owns HTTP, the key, the queue and the stop sequences,
// the same for either.
import type { CompletionRequest } from '../../../common/openai';

export interface ServedModel {
  /** What clients put in `model`. */
  id: string;
  /** Unix seconds (the file's date, for a local model). */
  created: number;
  ownedBy: string;
}

export interface CompletionEvents {
  /** The engine has taken the request (valid, its turn, running): a stream may begin. */
  onStart(): void;
  /** The reply as it comes: the answer, and a reasoning model's thinking apart from it. */
  onDelta(delta: { content: string; reasoning: string }): void;
}

export interface CompletionOutcome {
  /** eos: the model ended its reply; length: max_tokens or the context; cancelled: the signal. */
  stop: 'eos' | 'length' | 'cancelled';
  promptTokens: number;
  /** Prompt tokens whose K/V the engine already held. */
  cachedTokens: number;
  completionTokens: number;
}

export interface CompletionEngine {
  /** The models requests may name; empty when none is chosen. A remote engine asks its server (and fails with an ApiError saying why it cannot). */
  models(): ServedModel[] | Promise<ServedModel[]>;
  /**
   * Runs one request; aborting `signal` ends it (outcome "cancelled"), with
   * whatever was sent already. Fails with an ApiError when the request is at
   * fault (a prompt over the context) or has a status of its own, with
   * LeftTheQueue when the signal aborted before it ran, and with any other
   * error when the engine failed (the client gets a 503 with its message).
   */
  complete(request: CompletionRequest, events: CompletionEvents, signal: AbortSignal): Promise<CompletionOutcome>;
}
