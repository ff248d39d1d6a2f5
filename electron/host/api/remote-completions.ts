// The OpenAI-compatible API with a remote engine behind it (keymate serve
// --remote, or the app with Settings' remote on): a request is passed on as
// the client sent it, chat messages as messages and a text as a text, and
// the remote's reply streams back through the same server (its key, queue,
// stop sequences and shapes). The remote's refusals keep their meaning: a
// request the remote finds at fault is the client's 400, a busy remote its
// 429; a remote that cannot be reached, or refuses Keymate's own key, is a
// 503 saying so.
import type { CompletionRequest } from '../../../common/openai';
import { RemoteError } from '../remote/openai-client';
import type { RemoteEngine } from '../remote/remote-engine';
import { ApiError, badRequest, notFound, unavailable } from './api-error';
import type { CompletionEngine, CompletionEvents, CompletionOutcome, ServedModel } from './completion-engine';

export class RemoteCompletions implements CompletionEngine {
  constructor(private readonly remote: RemoteEngine) {}

  async models(): Promise<ServedModel[]> {
    let s = this.remote.status();
    // Not known yet (the check at start is under way), or the last check failed (the server was
    // down, or refused the key): asked again, so a server that came back is found at once.
    if (s.state !== 'ready') s = await this.remote.check();
    if (s.state !== 'ready') throw unavailable(`remote engine: ${s.message ?? `${s.url} serves no models`}`, 'remote_unavailable');
    // The model presses use comes first: it is what "default" names.
    const ids = s.model !== null ? [s.model, ...s.models.filter((m) => m !== s.model)] : s.models;
    return ids.map((id) => ({ id, created: 0, ownedBy: s.url }));
  }

  async complete(request: CompletionRequest, events: CompletionEvents, signal: AbortSignal): Promise<CompletionOutcome> {
    try {
      const r = await this.remote.run(
        { ...request, thinking: null },
        { onStart: () => events.onStart(), onDelta: (d) => events.onDelta(d) },
        signal,
      );
      return { stop: r.stop, promptTokens: r.promptTokens, cachedTokens: r.cachedTokens, completionTokens: r.completionTokens };
    } catch (e) {
      throw asApiError(e);
    }
  }
}

function asApiError(e: unknown): unknown {
  if (!(e instanceof RemoteError)) return e;
  const message = `remote engine: ${e.message}`;
  if (e.status === 400 || e.status === 422) return badRequest(message, null, e.code);
  if (e.status === 404) return notFound(message, e.code ?? 'not_found');
  if (e.status === 413) return new ApiError(413, message, 'invalid_request_error', null, e.code);
  if (e.status === 429) return new ApiError(429, message, 'rate_limit_error', null, e.code, { 'Retry-After': '1' });
  return unavailable(message, 'remote_unavailable');
}
