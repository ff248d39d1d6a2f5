// Every refusal of the OpenAI-compatible API as an HTTP status and OpenAI's
// error body, {"error": {"message", "type", "param", "code"}}: clients (the
// `openai` package first) turn the status into their own error class, and a
// person reads the message, one line that says what to change.
import type { ErrorBody } from '../../../common/openai';
import { printable } from '../../../common/printable';

export type ApiStatus = 400 | 401 | 403 | 404 | 405 | 413 | 429 | 500 | 503;

export class ApiError extends Error {
  override readonly name = 'ApiError';
  constructor(
    readonly status: ApiStatus,
    message: string,
    readonly type: string,
    readonly param: string | null = null,
    readonly code: string | null = null,
    /** Extra response headers (Retry-After, Allow). */
    readonly headers: Readonly<Record<string, string>> = {},
  ) {
    super(message);
  }

  body(): ErrorBody {
    return { error: { message: printable(this.message, 400), type: this.type, param: this.param, code: this.code } };
  }
}

export const badRequest = (message: string, param: string | null = null, code: string | null = null): ApiError =>
  new ApiError(400, message, 'invalid_request_error', param, code);

export const unauthorized = (message: string): ApiError => new ApiError(401, message, 'invalid_request_error', null, 'invalid_api_key');

export const forbidden = (message: string): ApiError => new ApiError(403, message, 'invalid_request_error', null, 'forbidden');

export const notFound = (message: string, code: string | null = 'not_found', param: string | null = null): ApiError =>
  new ApiError(404, message, 'invalid_request_error', param, code);

export const methodNotAllowed = (method: string, path: string, allow: string): ApiError =>
  new ApiError(405, `${printable(method, 20)} ${path}: method not allowed (use ${allow})`, 'invalid_request_error', null, 'method_not_allowed', { Allow: allow });

export const tooLarge = (limit: number): ApiError =>
  new ApiError(413, `the request body is over the limit of ${limit} bytes`, 'invalid_request_error', null, 'request_too_large');

export const queueFull = (waiting: number, retryAfterS: number): ApiError =>
  new ApiError(429, `busy: ${waiting} requests are already waiting for the engine; try again in ${retryAfterS} s`, 'rate_limit_error', null, 'rate_limit_exceeded', {
    'Retry-After': String(retryAfterS),
  });

export const unavailable = (message: string, code = 'engine_unavailable'): ApiError => new ApiError(503, message, 'server_error', null, code);
