// Serves the built renderer at app://keymate/ instead of file://: a real
// origin for 'self' in the CSP, the CSP sent as a header on every response,
// and no way for the page to read files outside dist/renderer.
import * as fs from 'node:fs';
import * as path from 'node:path';

import { protocol } from 'electron';

import { APP_HOST, APP_SCHEME, WINDOW_CSP } from './csp';

const TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.map': 'application/json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.woff2': 'font/woff2',
};

/** Must run before the app is ready. */
export function registerAppScheme(): void {
  protocol.registerSchemesAsPrivileged([{ scheme: APP_SCHEME, privileges: { standard: true, secure: true, supportFetchAPI: true } }]);
}

export function serveRenderer(root: string): void {
  protocol.handle(APP_SCHEME, async (request) => {
    const url = new URL(request.url);
    const headers = { 'Content-Security-Policy': WINDOW_CSP, 'X-Content-Type-Options': 'nosniff' };
    if (url.host !== APP_HOST) return new Response('not found', { status: 404, headers });
    const relative = decodeURIComponent(url.pathname).replace(/^\/+/, '') || 'index.html';
    const file = path.resolve(root, relative);
    if (!file.startsWith(root + path.sep)) return new Response('not found', { status: 404, headers });
    try {
      const body = await fs.promises.readFile(file);
      return new Response(body, { headers: { ...headers, 'Content-Type': TYPES[path.extname(file)] ?? 'application/octet-stream' } });
    } catch {
      const missing = relative === 'index.html' ? `The Keymate UI is not built (${file} is missing): run npm run build:renderer.` : 'not found';
      return new Response(missing, { status: 404, headers: { ...headers, 'Content-Type': 'text/plain; charset=utf-8' } });
    }
  });
}
