// What keeps `keymate serve` to the person who started it: it listens on the
// loopback interface only, the Host header must name the loopback address (a
// DNS-rebinding page cannot borrow it), a browser's request must come from
// the served page's own origin, and the page and its WebSocket need the
// per-launch token, which travels in the URL's query and nowhere else.
//
// No cookie: browsers do not separate cookies by port, so a cookie set by
// 127.0.0.1:N is sent to every other server on 127.0.0.1 (a dev server,
// another user's process), which could then replay it from a script that
// sends no Origin. The page's own scripts and styles are the public UI bundle
// and are served without the token (they cannot carry it); everything else,
// the page and the socket first, requires it, from the query.
import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';

export const LOOPBACK = '127.0.0.1';

/** 32 random bytes, URL-safe: new at every launch. */
export function newToken(): string {
  return randomBytes(32).toString('base64url');
}

export function sameToken(expected: string, given: string | null | undefined): boolean {
  if (given === null || given === undefined) return false;
  const a = Buffer.from(expected);
  const b = Buffer.from(given);
  return a.length === b.length && timingSafeEqual(a, b);
}

export function hostAllowed(req: IncomingMessage, port: number): boolean {
  const host = req.headers.host;
  return host === `${LOOPBACK}:${port}` || host === `localhost:${port}`;
}

/** No Origin (not a browser) is fine: the token is still required. */
export function originAllowed(req: IncomingMessage, port: number): boolean {
  const origin = req.headers.origin;
  return origin === undefined || origin === `http://${LOOPBACK}:${port}` || origin === `http://localhost:${port}`;
}

export type Verdict = { ok: true } | { ok: false; status: 401 | 403; reason: string };

/** Every request: the Host names loopback and a browser's Origin is the page's own. */
export function checkOrigin(req: IncomingMessage, port: number): Verdict {
  if (!hostAllowed(req, port)) return { ok: false, status: 403, reason: 'forbidden: wrong Host header (only 127.0.0.1 may be used)' };
  if (!originAllowed(req, port)) return { ok: false, status: 403, reason: 'forbidden: cross-origin request' };
  return { ok: true };
}

/** The page and the socket: the per-launch token in the query (a cookie is never accepted, see above). */
export function checkToken(req: IncomingMessage, token: string): Verdict {
  let given: string | null = null;
  try {
    given = new URL(req.url ?? '/', 'http://x').searchParams.get('token');
  } catch {
    // a target that is not a URL path carries no token
  }
  if (given === null) return { ok: false, status: 401, reason: 'unauthorized: open the URL keymate serve printed (it carries the token)' };
  if (!sameToken(token, given)) return { ok: false, status: 403, reason: 'forbidden: wrong token (it changes at every launch of keymate serve)' };
  return { ok: true };
}

/** Both checks, in order: what an upgrade to the WebSocket must pass. */
export function checkUpgrade(req: IncomingMessage, port: number, token: string): Verdict {
  const origin = checkOrigin(req, port);
  return origin.ok ? checkToken(req, token) : origin;
}

/**
 * The served page's CSP: only its own scripts and styles, and sockets back to
 * this server. No inline code, no eval, no framing.
 */
export function contentSecurityPolicy(port: number): string {
  return [
    "default-src 'none'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self'",
    "font-src 'self'",
    `connect-src 'self' ws://${LOOPBACK}:${port} ws://localhost:${port}`,
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
  ].join('; ');
}
