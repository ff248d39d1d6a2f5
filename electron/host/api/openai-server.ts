// The OpenAI-compatible API under /v1, on the loopback server of `keymate
// serve` (transport/ws-server.ts hands it every request whose path starts
// with /v1). Routes: GET /v1/models, GET /v1/models/{id},
// POST /v1/chat/completions, POST /v1/completions; docs/api.md is the
// user's reference.
//
// Every request passes, in order: the UI transport's Host and Origin checks
// (security.ts: a DNS-rebinding page cannot reach the API either; no CORS
// headers, so no other origin may read an answer), the key (Authorization:
// Bearer, compared in constant time), the route, room in the queue (checked
// before the body is read, so a crowd of large bodies is refused cheaply), the
// body (MAX_BODY_BYTES), its validation (common/openai.ts) and the model's
// name. Each refusal is OpenAI's error body with its status; a request's
// failure never touches the next one.
//
// A stream's headers go out when the engine starts on it, so that whatever
// fails before (no model, a prompt over the context) is still a plain error
// status; a failure after that is an {"error"} message in the stream. A
// client that goes away stops its generation (or leaves the queue).
import { randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';

import type { ChatCompletion, ChatCompletionChunk, CompletionRequest, FinishReason, ModelList, ModelObject, TextCompletion, Usage } from '../../../common/openai';
import { InvalidRequest, parseChat, parseText } from '../../../common/openai';
import { printable, quoted } from '../../../common/printable';
import { checkOrigin, originAllowed, sameToken } from '../transport/security';
import { ApiError, badRequest, forbidden, methodNotAllowed, notFound, queueFull, unauthorized, unavailable } from './api-error';
import type { CompletionEngine, CompletionOutcome, ServedModel } from './completion-engine';
import { ClientGone, MAX_BODY_BYTES, discardRest, parseJson, readBody } from './request-body';
import { LeftTheQueue, MAX_WAITING_REQUESTS, QueueFull, RequestQueue } from './request-queue';
import { SseStream } from './sse';
import { StopScanner } from './stop-strings';

export const API_PREFIX = '/v1';
/** `model` may name the served model by its id, or by this. */
export const DEFAULT_MODEL_ALIAS = 'default';
/** What a 429 tells the client to wait: a small model's request takes well under a second. */
export const RETRY_AFTER_S = 1;

/** A request's path; '' for a target that is not a URL path ("//[", which URL refuses), which no route matches. */
export function pathOf(req: IncomingMessage): string {
  try {
    return new URL(req.url ?? '/', 'http://x').pathname;
  } catch {
    return '';
  }
}

export function isApiPath(pathname: string): boolean {
  return pathname === API_PREFIX || pathname.startsWith(API_PREFIX + '/');
}

export interface OpenAiServerOptions {
  engine: CompletionEngine;
  /** The key clients send as "Authorization: Bearer <key>". */
  apiKey: string;
  maxWaiting?: number;
  maxBodyBytes?: number;
  /** Where an unexpected failure (a bug, not a bad request) is reported. */
  log?: (line: string) => void;
}

type Endpoint = 'chat' | 'text';

export class OpenAiServer {
  private readonly queue: RequestQueue;
  private readonly maxBodyBytes: number;
  private readonly log: (line: string) => void;
  /** The requests in progress or waiting, to stop when the server closes. */
  private readonly inFlight = new Set<AbortController>();
  private apiKey: string;

  constructor(private readonly o: OpenAiServerOptions) {
    this.apiKey = o.apiKey;
    this.queue = new RequestQueue(o.maxWaiting ?? MAX_WAITING_REQUESTS);
    this.maxBodyBytes = o.maxBodyBytes ?? MAX_BODY_BYTES;
    this.log = o.log ?? ((line) => process.stderr.write(line + '\n'));
  }

  /**
   * Answers one request under /v1 (`port`: the server's own, for the Host
   * check; `network`: the user let other machines in, so any Host header is
   * taken: the key still guards it, and a browser's cross-origin request is
   * still refused). Never throws.
   */
  async handle(req: IncomingMessage, res: ServerResponse, port: number, network = false): Promise<void> {
    res.setHeader('X-Content-Type-Options', 'nosniff');
    res.setHeader('Cache-Control', 'no-store');
    try {
      await this.route(req, res, port, network);
    } catch (e) {
      if (e instanceof ClientGone) res.destroy();
      else this.refuse(req, res, e);
    }
  }

  /** From now on clients must send `key` (the old one was renewed). */
  setKey(key: string): void {
    this.apiKey = key;
  }

  /** Stops every request in progress or waiting (the server is closing). */
  close(): void {
    for (const c of this.inFlight) c.abort();
  }

  private async route(req: IncomingMessage, res: ServerResponse, port: number, network: boolean): Promise<void> {
    if (network) {
      if (!originAllowed(req, port)) throw forbidden('forbidden: cross-origin request');
    } else {
      const origin = checkOrigin(req, port);
      if (!origin.ok) throw forbidden(origin.reason);
    }
    this.authorize(req);
    const method = req.method ?? 'GET';
    const pathname = pathOf(req).replace(/\/+$/, '');
    if (pathname === `${API_PREFIX}/models`) {
      if (method !== 'GET') throw methodNotAllowed(method, pathname, 'GET');
      return sendJson(res, 200, modelList(await this.o.engine.models()));
    }
    if (pathname.startsWith(`${API_PREFIX}/models/`)) {
      if (method !== 'GET') throw methodNotAllowed(method, pathname, 'GET');
      const id = decodeURIComponent(pathname.slice(`${API_PREFIX}/models/`.length));
      const model = (await this.o.engine.models()).find((m) => m.id === id);
      if (model === undefined) throw notFound(`model ${quoted(id)} is not served here (GET /v1/models lists what is)`, 'model_not_found', 'model');
      return sendJson(res, 200, modelObject(model));
    }
    const endpoint: Endpoint | null = pathname === `${API_PREFIX}/chat/completions` ? 'chat' : pathname === `${API_PREFIX}/completions` ? 'text' : null;
    if (endpoint === null) throw notFound(`unknown route: ${printable(method, 20)} ${printable(pathname, 100)} (see GET /v1/models, POST /v1/chat/completions, POST /v1/completions)`);
    if (method !== 'POST') throw methodNotAllowed(method, pathname, 'POST');
    return this.complete(endpoint, req, res);
  }

  private authorize(req: IncomingMessage): void {
    const header = req.headers.authorization;
    if (header === undefined || header === '') {
      throw unauthorized('missing API key: send "Authorization: Bearer <key>" (keymate serve prints the key on its first line; it is kept in the file api-key of the data folder)');
    }
    const m = /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(header);
    if (m === null) throw unauthorized('the Authorization header must be "Bearer <key>"');
    if (!sameToken(this.apiKey, m[1])) throw unauthorized('wrong API key (keymate serve prints the right one on its first line)');
  }

  private async complete(endpoint: Endpoint, req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (this.queue.full) throw queueFull(this.queue.waiting, RETRY_AFTER_S);
    const body = parseJson(await readBody(req, this.maxBodyBytes));
    let request: CompletionRequest;
    try {
      request = endpoint === 'chat' ? parseChat(body) : parseText(body);
    } catch (e) {
      if (e instanceof InvalidRequest) throw badRequest(e.message, e.param, e.code);
      throw e;
    }
    const model = await this.servedModel(request.model);
    // The alias resolved: an engine that passes the request on names the model itself.
    request = { ...request, model: model.id };

    const controller = new AbortController();
    // The client went away: its generation stops, or it leaves the queue.
    const gone = (): void => {
      if (!res.writableFinished) controller.abort();
    };
    res.on('close', gone);
    this.inFlight.add(controller);
    try {
      await this.queue.run(() => this.answer(endpoint, request, model, res, controller), controller.signal);
    } catch (e) {
      if (e instanceof QueueFull) throw queueFull(e.waiting, RETRY_AFTER_S);
      if (e instanceof LeftTheQueue) return;
      throw e;
    } finally {
      this.inFlight.delete(controller);
      res.off('close', gone);
    }
  }

  /** The model a request names: the one served, by its id or the alias; 404 otherwise, 503 when none is. */
  private async servedModel(name: string): Promise<ServedModel> {
    const served = await this.o.engine.models();
    const first = served[0];
    if (first === undefined) throw unavailable("no model is loaded: choose one in the app's Settings, or start keymate serve with --model", 'model_not_loaded');
    const model = name === DEFAULT_MODEL_ALIAS ? first : served.find((m) => m.id === name);
    if (model === undefined) {
      throw notFound(`model ${quoted(name)} is not served here: use ${served.map((m) => quoted(m.id)).join(', ')} or "${DEFAULT_MODEL_ALIAS}"`, 'model_not_found', 'model');
    }
    return model;
  }

  /** One request's turn with the engine: the reply streamed or whole. */
  private async answer(endpoint: Endpoint, request: CompletionRequest, model: ServedModel, res: ServerResponse, controller: AbortController): Promise<void> {
    const reply = new Reply(endpoint, model.id, request);
    const stops = new StopScanner(request.stop);
    const sse = request.stream ? new SseStream(res) : null;
    let content = '';
    let reasoning = '';
    // A client gone mid-stream: nothing more is written to it.
    const open = (): boolean => !res.writableEnded && !res.destroyed;
    const send = (delta: { content: string; reasoning: string }): void => {
      if (delta.content === '' && delta.reasoning === '') return;
      content += delta.content;
      reasoning += delta.reasoning;
      if (sse !== null && open()) sse.send(reply.chunk(delta, null));
    };
    let outcome: CompletionOutcome;
    try {
      outcome = await this.o.engine.complete(
        request,
        {
          onStart: () => {
            if (sse !== null && open()) sse.send(reply.first());
          },
          onDelta: (d) => {
            if (stops.stopped) return;
            const text = stops.push(d.content);
            send({ content: text, reasoning: d.reasoning });
            if (stops.stopped) controller.abort();
          },
        },
        controller.signal,
      );
    } catch (e) {
      if (e instanceof LeftTheQueue) throw e;
      // The request's fault is the engine's ApiError; anything else is the engine's own failure.
      const error = e instanceof ApiError ? e : unavailable(`engine: ${e instanceof Error ? e.message : String(e)}`, 'engine_error');
      if (sse?.started !== true) throw error;
      if (open()) sse.fail(error.body());
      return;
    }
    if (controller.signal.aborted && !stops.stopped) return; // the client went away, or the server is closing
    send({ content: stops.end(), reasoning: '' });
    const finish: FinishReason = stops.stopped || outcome.stop !== 'length' ? 'stop' : 'length';
    const usage: Usage = {
      prompt_tokens: outcome.promptTokens,
      completion_tokens: outcome.completionTokens,
      total_tokens: outcome.promptTokens + outcome.completionTokens,
      prompt_tokens_details: { cached_tokens: outcome.cachedTokens },
    };
    if (sse === null) return sendJson(res, 200, reply.whole(content, reasoning, finish, usage));
    if (!open()) return;
    sse.send(reply.chunk({ content: '', reasoning: '' }, finish));
    if (request.includeUsage) sse.send(reply.usage(usage));
    sse.done();
  }

  private refuse(req: IncomingMessage, res: ServerResponse, e: unknown): void {
    const error = this.asApiError(e);
    if (res.headersSent) {
      res.destroy();
      return;
    }
    // The rest of a refused body is read and dropped (so the client can read this answer), up to a bound.
    if (!req.readableEnded) discardRest(req);
    res.writeHead(error.status, { 'Content-Type': 'application/json; charset=utf-8', ...error.headers });
    res.end(JSON.stringify(error.body()));
  }

  private asApiError(e: unknown): ApiError {
    if (e instanceof ApiError) return e;
    const message = e instanceof Error ? e.message : String(e);
    this.log(`keymate: api: unexpected failure: ${message}`);
    return new ApiError(500, `internal error: ${message}`, 'server_error', null, 'internal_error');
  }
}

function sendJson(res: ServerResponse, status: number, value: unknown): void {
  res.writeHead(status, { 'Content-Type': 'application/json; charset=utf-8' });
  res.end(JSON.stringify(value));
}

function modelObject(m: ServedModel): ModelObject {
  return { id: m.id, object: 'model', created: m.created, owned_by: m.ownedBy };
}

function modelList(models: ServedModel[]): ModelList {
  return { object: 'list', data: models.map(modelObject) };
}

/** One reply's messages in its endpoint's shapes, sharing an id and a date. */
class Reply {
  private readonly id: string;
  private readonly created = Math.floor(Date.now() / 1000);

  constructor(
    private readonly endpoint: Endpoint,
    private readonly model: string,
    private readonly request: CompletionRequest,
  ) {
    this.id = `${endpoint === 'chat' ? 'chatcmpl' : 'cmpl'}-${randomBytes(12).toString('hex')}`;
  }

  /** The stream's first message: the chat's role (a text completion has none, so an empty text). */
  first(): ChatCompletionChunk | TextCompletion {
    return this.endpoint === 'chat' ? this.chatChunk({ role: 'assistant', content: '' }, null) : this.textChunk('', null);
  }

  chunk(delta: { content: string; reasoning: string }, finish: FinishReason | null): ChatCompletionChunk | TextCompletion {
    if (this.endpoint === 'text') return this.textChunk(delta.content, finish);
    const d: ChatCompletionChunk['choices'][number]['delta'] = {};
    if (delta.reasoning !== '') d.reasoning_content = delta.reasoning;
    if (delta.content !== '') d.content = delta.content;
    return this.chatChunk(d, finish);
  }

  /** With stream_options.include_usage: the last message before [DONE], with no choices. */
  usage(usage: Usage): ChatCompletionChunk | TextCompletion {
    return this.endpoint === 'chat'
      ? { id: this.id, object: 'chat.completion.chunk', created: this.created, model: this.model, choices: [], usage }
      : { id: this.id, object: 'text_completion', created: this.created, model: this.model, choices: [], usage };
  }

  whole(content: string, reasoning: string, finish: FinishReason, usage: Usage): ChatCompletion | TextCompletion {
    if (this.endpoint === 'text') {
      return { id: this.id, object: 'text_completion', created: this.created, model: this.model, choices: [{ index: 0, text: content, logprobs: null, finish_reason: finish }], usage };
    }
    const message: ChatCompletion['choices'][number]['message'] = { role: 'assistant', content };
    if (reasoning !== '') message.reasoning_content = reasoning;
    return { id: this.id, object: 'chat.completion', created: this.created, model: this.model, choices: [{ index: 0, message, logprobs: null, finish_reason: finish }], usage };
  }

  private chatChunk(delta: ChatCompletionChunk['choices'][number]['delta'], finish: FinishReason | null): ChatCompletionChunk {
    const usage = this.request.includeUsage ? { usage: null } : {};
    return { id: this.id, object: 'chat.completion.chunk', created: this.created, model: this.model, choices: [{ index: 0, delta, logprobs: null, finish_reason: finish }], ...usage };
  }

  private textChunk(text: string, finish: FinishReason | null): TextCompletion {
    const usage = this.request.includeUsage ? { usage: null } : {};
    return { id: this.id, object: 'text_completion', created: this.created, model: this.model, choices: [{ index: 0, text, logprobs: null, finish_reason: finish }], ...usage };
  }
}
