// One HTTP(S) GET with redirects followed (Hugging Face's resolve links
// answer 302 to a CDN), at most MAX_REDIRECTS hops, the request headers
// (Range, If-Range) kept on every hop. It answers the final response with
// its body unread; the caller streams it. No body decoding: the bytes on the
// wire are the file's bytes (Accept-Encoding: identity).
import * as http from 'node:http';
import * as https from 'node:https';

export const MAX_REDIRECTS = 10;
const REDIRECTS = new Set([301, 302, 303, 307, 308]);

export interface HttpGetOptions {
  headers: Record<string, string>;
  signal: AbortSignal;
  /** A socket silent this long fails the request (a stalled server is a network error). */
  idleTimeoutMs: number;
}

export interface HttpResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  /** Where the response came from, after redirects. */
  url: URL;
  body: http.IncomingMessage;
}

export type HttpGet = (url: URL, options: HttpGetOptions) => Promise<HttpResponse>;

/** A failure of the transfer itself (no HTTP status to judge by): worth a retry. */
export class NetworkError extends Error {
  override readonly name = 'NetworkError';
  constructor(
    message: string,
    readonly code: string,
  ) {
    super(message);
  }
}

export const httpGet: HttpGet = async (url, options) => {
  let current = url;
  for (let hop = 0; ; hop++) {
    const res = await requestOnce(current, options);
    if (!REDIRECTS.has(res.status)) return res;
    res.body.resume(); // drain the redirect's own body so its socket is freed
    const location = res.headers.location;
    if (location === undefined) throw new Error(`${current.host}: HTTP ${res.status} redirect without a Location`);
    if (hop + 1 > MAX_REDIRECTS) throw new Error(`${url.host}: more than ${MAX_REDIRECTS} redirects; the link loops`);
    const next = new URL(location, current);
    if (next.protocol !== 'http:' && next.protocol !== 'https:') throw new Error(`${current.host}: redirect to a ${next.protocol} URL; only http and https are followed`);
    current = next;
  }
};

function requestOnce(url: URL, options: HttpGetOptions): Promise<HttpResponse> {
  const get = url.protocol === 'https:' ? https.get : http.get;
  return new Promise((resolve, reject) => {
    const req = get(url, { headers: { 'accept-encoding': 'identity', ...options.headers }, signal: options.signal }, (res) => {
      resolve({ status: res.statusCode ?? 0, headers: res.headers, url, body: res });
    });
    req.setTimeout(options.idleTimeoutMs, () => {
      req.destroy(new NetworkError(`${url.host}: no data for ${Math.round(options.idleTimeoutMs / 1000)} s`, 'ETIMEDOUT'));
    });
    req.on('error', (e: NodeJS.ErrnoException) => {
      reject(e instanceof NetworkError || e.name === 'AbortError' ? e : new NetworkError(`${url.host}: ${e.message}`, e.code ?? 'ENETWORK'));
    });
  });
}
