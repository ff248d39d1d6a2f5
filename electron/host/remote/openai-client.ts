// A client of an OpenAI-compatible server (vLLM, SGLang, Ollama, llama.cpp's
// server, another Keymate): its model list, and a completion streamed as
// server-sent events. Plain fetch, no client library: what Keymate asks of
// such a server is two routes, and every way they fail must become one line
// that says what to do (the server refused the key, nothing listens there,
// the connection dropped mid-reply), not a library's error class.
//
// A stream is read as the events arrive (`onChunk` per JSON message), which
// is what lets the caller time the first token and the decode honestly.
import type { ModelList } from '../../../common/openai';
import { printable } from '../../../common/printable';

/** How long a server may take to answer with its headers (a busy vLLM queues first). */
export const RESPONSE_TIMEOUT_MS = 60_000;
/** How long a stream may stay silent between two messages before it is taken as dropped. */
export const STREAM_IDLE_MS = 120_000;
/** How long a refusal's body may take: its status says enough without it. */
const REFUSAL_BODY_MS = 5_000;

/** A refusal or failure of the remote server, in one line; `status` is its HTTP status (null: no answer at all). */
export class RemoteError extends Error {
  override readonly name = 'RemoteError';
  constructor(
    message: string,
    readonly status: number | null,
    /** The error body's `code` or `type`, when it gave one. */
    readonly code: string | null = null,
  ) {
    super(message);
  }
}

/**
 * The base URL of an OpenAI-compatible API as a user types it, checked and
 * made canonical: http or https, no query or fragment, no trailing slash.
 * A URL without a path gets /v1, where every such server answers; one with a
 * path is kept as it is (a proxy may put the API elsewhere).
 */
export function normalizeBaseUrl(text: string): string {
  const trimmed = text.trim();
  let url: URL;
  try {
    url = new URL(trimmed);
  } catch {
    throw new Error(`${JSON.stringify(printable(trimmed, 80))} is not a URL (expected something like http://gpu-box:8000/v1)`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error(`${url.protocol} URLs are not supported (use http:// or https://)`);
  if (url.search !== '' || url.hash !== '') throw new Error('the URL must not have a query or a fragment (expected something like http://gpu-box:8000/v1)');
  if (url.username !== '' || url.password !== '') throw new Error('put the key in the API key field (or KEYMATE_REMOTE_API_KEY), not in the URL');
  const pathname = url.pathname.replace(/\/+$/, '');
  return `${url.origin}${pathname === '' ? '/v1' : pathname}`;
}

export interface OpenAiClientOptions {
  /** Canonical (normalizeBaseUrl). */
  baseUrl: string;
  /** Sent as "Authorization: Bearer <key>"; null sends none. */
  apiKey: string | null;
  responseTimeoutMs?: number;
  streamIdleMs?: number;
}

export class OpenAiClient {
  constructor(private readonly o: OpenAiClientOptions) {}

  get baseUrl(): string {
    return this.o.baseUrl;
  }

  /** GET /models: the ids the server serves, in its order. */
  async models(signal?: AbortSignal): Promise<string[]> {
    const res = await this.request('GET', 'models', undefined, signal);
    const body = await readJson(res, this.o.baseUrl, this.o.responseTimeoutMs ?? RESPONSE_TIMEOUT_MS);
    const data = (body as Partial<ModelList> | null)?.data;
    if (!Array.isArray(data)) throw new RemoteError(`${this.o.baseUrl}/models did not answer with a model list (is this an OpenAI-compatible API? its base URL usually ends in /v1)`, res.status);
    return data.map((m) => (typeof m?.id === 'string' ? m.id : '')).filter((id) => id !== '');
  }

  /**
   * POSTs `body` (with "stream": true) to `route`, calls `onOpen` once the
   * server has accepted it (its headers came), and hands each message of the
   * event stream to `onChunk` as it arrives; resolves after [DONE].
   * Rejects with a RemoteError (refused, unreachable, dropped, or an error
   * message in the stream), or with the signal's reason when it aborts.
   */
  async stream(route: 'chat/completions' | 'completions', body: object, on: { onOpen?: () => void; onChunk: (chunk: unknown) => void }, signal: AbortSignal): Promise<void> {
    const res = await this.request('POST', route, { ...body, stream: true }, signal);
    on.onOpen?.();
    if (res.body === null) throw new RemoteError(`${this.o.baseUrl}/${route} answered with no body`, res.status);
    const reader = res.body.getReader();
    try {
      await this.readEvents(reader, on.onChunk, signal);
    } catch (e) {
      // A bad message or the caller's own failure: the connection is let go, not left open.
      reader.cancel().catch(() => undefined);
      throw e;
    }
  }

  private async readEvents(reader: ReadableStreamDefaultReader<Uint8Array>, onChunk: (chunk: unknown) => void, signal: AbortSignal): Promise<void> {
    const decoder = new TextDecoder();
    const events = new EventLines();
    const idleMs = this.o.streamIdleMs ?? STREAM_IDLE_MS;
    for (;;) {
      const next = await withTimeout(
        reader.read(),
        idleMs,
        () => new RemoteError(`${this.o.baseUrl} sent nothing for ${seconds(idleMs)} mid-reply; gave up on it`, null, 'timeout'),
        // After the rejection: cancelling settles the pending read, which must not win the race as an end of stream.
        () => void reader.cancel(),
      ).catch((e: unknown) => {
        if (signal.aborted) throw signal.reason;
        if (e instanceof RemoteError) throw e;
        throw new RemoteError(`the connection to ${this.o.baseUrl} dropped mid-reply (${describeFetchError(e)})`, null, 'dropped');
      });
      if (next.done) break;
      for (const data of events.push(decoder.decode(next.value, { stream: true }))) {
        if (data === '[DONE]') {
          void reader.cancel();
          return;
        }
        onChunk(parseMessage(data, this.o.baseUrl));
      }
    }
    for (const data of events.push(decoder.decode() + '\n\n')) {
      if (data === '[DONE]') return;
      onChunk(parseMessage(data, this.o.baseUrl));
    }
    throw new RemoteError(`the connection to ${this.o.baseUrl} dropped mid-reply (the stream ended without [DONE])`, null, 'dropped');
  }

  private async request(method: 'GET' | 'POST', route: string, body: object | undefined, signal: AbortSignal | undefined): Promise<Response> {
    const url = `${this.o.baseUrl}/${route}`;
    const headers: Record<string, string> = { Accept: body === undefined ? 'application/json' : 'text/event-stream' };
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    if (this.o.apiKey !== null && this.o.apiKey !== '') headers['Authorization'] = `Bearer ${this.o.apiKey}`;
    // The timeout is for the headers only: a long reply may stream for minutes. The caller's signal stops the body too.
    const timeoutMs = this.o.responseTimeoutMs ?? RESPONSE_TIMEOUT_MS;
    const controller = new AbortController();
    if (signal !== undefined) {
      if (signal.aborted) throw signal.reason;
      signal.addEventListener('abort', () => controller.abort(signal.reason), { once: true });
    }
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      controller.abort();
    }, timeoutMs);
    let res: Response;
    try {
      res = await fetch(url, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), signal: controller.signal, redirect: 'error' });
    } catch (e) {
      if (signal?.aborted === true) throw signal.reason;
      if (timedOut) throw new RemoteError(`${this.o.baseUrl} did not answer within ${seconds(timeoutMs)}`, null, 'timeout');
      throw new RemoteError(`cannot reach ${this.o.baseUrl}: ${describeFetchError(e)}`, null, 'unreachable');
    } finally {
      clearTimeout(timer);
    }
    if (res.ok) return res;
    throw await refusal(res, this.o.baseUrl, route);
  }
}

/** A body's text, unless it takes longer than `ms` (a server may send its headers and stall). */
function textWithin(res: Response, ms: number): Promise<string> {
  return withTimeout(res.text(), ms, () => new RemoteError('timed out', null, 'timeout'), () => void res.body?.cancel().catch(() => undefined));
}

/** The error a non-2xx answer carries: its OpenAI error body's message when it has one. */
async function refusal(res: Response, baseUrl: string, route: string): Promise<RemoteError> {
  const text = await textWithin(res, REFUSAL_BODY_MS).catch(() => '');
  let message = '';
  let code: string | null = null;
  try {
    const e = (JSON.parse(text) as { error?: unknown; message?: unknown; detail?: unknown }) ?? {};
    // OpenAI's {"error": {"message"}}; Ollama's {"error": "..."}; FastAPI's {"detail": "..."}; a bare {"message"}.
    const inner = typeof e.error === 'object' && e.error !== null ? (e.error as { message?: unknown; code?: unknown; type?: unknown }) : null;
    const m = inner?.message ?? e.error ?? e.message ?? e.detail;
    if (typeof m === 'string') message = m;
    // FastAPI's validation errors (vLLM's 422): a list of {loc, msg}.
    else if (Array.isArray(m)) message = m.map((d: { loc?: unknown; msg?: unknown }) => `${Array.isArray(d?.loc) ? d.loc.join('.') + ': ' : ''}${typeof d?.msg === 'string' ? d.msg : ''}`).join('; ');
    const c = inner?.code ?? inner?.type;
    if (typeof c === 'string' || typeof c === 'number') code = String(c);
  } catch {
    message = text;
  }
  const why = printable(message.trim(), 300);
  const hint = res.status === 401 || res.status === 403 ? ' (check the remote API key: Settings, or KEYMATE_REMOTE_API_KEY)' : res.status === 404 && why === '' ? ` (is ${baseUrl} the API's base URL? it usually ends in /v1)` : '';
  return new RemoteError(`${baseUrl}/${route} answered ${res.status}${why !== '' ? `: ${why}` : ''}${hint}`, res.status, code);
}

async function readJson(res: Response, baseUrl: string, ms: number): Promise<unknown> {
  const text = await textWithin(res, ms).catch((e: unknown) => {
    throw e instanceof RemoteError ? new RemoteError(`${baseUrl} sent its headers but not the rest of its answer within ${seconds(ms)}`, res.status, 'timeout') : e;
  });
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new RemoteError(`${baseUrl} answered with something that is not JSON (${JSON.stringify(printable(text, 60))})`, res.status);
  }
}

/** A stream's message; an {"error"} message (a failure after the headers) becomes the RemoteError it reports. */
function parseMessage(data: string, baseUrl: string): unknown {
  let message: unknown;
  try {
    message = JSON.parse(data);
  } catch {
    throw new RemoteError(`${baseUrl} sent a stream message that is not JSON (${JSON.stringify(printable(data, 60))})`, null);
  }
  const error = (message as { error?: unknown } | null)?.error;
  if (error !== undefined && error !== null) {
    const m = typeof error === 'string' ? error : (error as { message?: unknown }).message;
    throw new RemoteError(`${baseUrl} failed mid-reply: ${printable(typeof m === 'string' ? m : JSON.stringify(error), 300)}`, null);
  }
  return message;
}

/**
 * Server-sent events, as far as an OpenAI stream uses them: `data:` lines,
 * joined with newlines, make one message; a blank line ends it. Comments
 * (":" lines, which some servers send to keep a connection alive) and other
 * fields are skipped.
 */
export class EventLines {
  private pending = '';
  private data: string[] = [];

  /** The messages `text` completes. */
  push(text: string): string[] {
    this.pending += text;
    const out: string[] = [];
    let nl: number;
    while ((nl = this.pending.indexOf('\n')) >= 0) {
      const line = this.pending.slice(0, nl).replace(/\r$/, '');
      this.pending = this.pending.slice(nl + 1);
      if (line === '') {
        if (this.data.length > 0) out.push(this.data.join('\n'));
        this.data = [];
      } else if (line.startsWith('data:')) {
        this.data.push(line.slice(line.startsWith('data: ') ? 6 : 5));
      }
    }
    return out;
  }
}

/** `work`, or `error()` once `ms` have passed; `then` runs after that rejection. */
function withTimeout<T>(work: Promise<T>, ms: number, error: () => Error, then: () => void): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      reject(error());
      then();
    }, ms);
  });
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}

/** "60 s", "0.2 s". */
function seconds(ms: number): string {
  return ms >= 10_000 ? `${Math.round(ms / 1000)} s` : `${Number((ms / 1000).toFixed(1))} s`;
}

/** fetch's TypeError says "fetch failed"; the reason is in its cause (ECONNREFUSED, ENOTFOUND, a TLS problem). */
function describeFetchError(e: unknown): string {
  const cause = (e as { cause?: { code?: unknown; message?: unknown } } | null)?.cause;
  const code = typeof cause?.code === 'string' ? cause.code : null;
  if (code === 'ECONNREFUSED') return 'nothing is listening there (ECONNREFUSED): is the server running?';
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') return `the host name does not resolve (${code})`;
  if (code === 'ECONNRESET' || code === 'UND_ERR_SOCKET') return `the server closed the connection (${code})`;
  if (typeof cause?.message === 'string' && cause.message !== '') return printable(cause.message, 200);
  return e instanceof Error ? printable(e.message, 200) : String(e);
}
