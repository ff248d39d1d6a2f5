// What keeps `keymate serve` to the person who started it: it listens on the
// loopback interface only, every request carries the per-launch token (in
// the page's query, or the cookie the page sets from it), the Host header must
// name the loopback address (a DNS-rebinding page cannot borrow it), and a
// browser's WebSocket must come from the served page's own origin.
import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';

export const LOOPBACK = '127.0.0.1';
export const TOKEN_COOKIE = 'keymate_token';

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

export function tokenFrom(req: IncomingMessage): { query: string | null; cookie: string | null } {
  const url = new URL(req.url ?? '/', 'http://x');
  const query = url.searchParams.get('token');
  let cookie: string | null = null;
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const [name, ...rest] = part.trim().split('=');
    if (name === TOKEN_COOKIE) cookie = rest.join('=');
  }
  return { query, cookie };
}

export type Verdict = { ok: true; fromQuery: boolean } | { ok: false; status: 401 | 403; reason: string };

export function checkRequest(req: IncomingMessage, port: number, token: string): Verdict {
  if (!hostAllowed(req, port)) return { ok: false, status: 403, reason: 'forbidden: wrong Host header (only 127.0.0.1 may be used)' };
  if (!originAllowed(req, port)) return { ok: false, status: 403, reason: 'forbidden: cross-origin request' };
  const given = tokenFrom(req);
  if (given.query === null && given.cookie === null) {
    return { ok: false, status: 401, reason: 'unauthorized: open the URL keymate serve printed (it carries the token)' };
  }
  if (sameToken(token, given.query)) return { ok: true, fromQuery: true };
  if (given.query === null && sameToken(token, given.cookie)) return { ok: true, fromQuery: false };
  return { ok: false, status: 403, reason: 'forbidden: wrong token (it changes at every launch of keymate serve)' };
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
