// The built renderer (dist/renderer/, made by vite) as HTTP responses: only
// files inside that folder, with their content type, and index.html for "/"
// and for "/overlay" (the same page in its overlay layout).
// When the UI has not been built the page says so and how to fix it.
import * as fs from 'node:fs';
import * as path from 'node:path';

const TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.map': 'application/json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.woff': 'font/woff',
  '.txt': 'text/plain; charset=utf-8',
};

export type StaticResult = { status: 200; type: string; body: Buffer } | { status: 404 | 503; type: string; body: string };

/** `urlPath` is the request's path, already without the query. */
export async function readStatic(root: string, urlPath: string): Promise<StaticResult> {
  let decoded: string;
  try {
    decoded = decodeURIComponent(urlPath);
  } catch {
    return notFound(urlPath);
  }
  const relative = decoded === '/' || decoded === '' || decoded === '/overlay' ? 'index.html' : decoded.replace(/^\/+/, '');
  const file = path.resolve(root, relative);
  if (file !== root && !file.startsWith(root + path.sep)) return notFound(urlPath);
  try {
    const body = await fs.promises.readFile(file);
    return { status: 200, type: TYPES[path.extname(file).toLowerCase()] ?? 'application/octet-stream', body };
  } catch {
    if (relative === 'index.html') {
      return {
        status: 503,
        type: 'text/plain; charset=utf-8',
        body: `The Keymate UI is not built: ${path.join(root, 'index.html')} is missing. Run \`npm run build:renderer\`, then reload.\n`,
      };
    }
    return notFound(urlPath);
  }
}

function notFound(urlPath: string): StaticResult {
  return { status: 404, type: 'text/plain; charset=utf-8', body: `not found: ${urlPath.slice(0, 200)}\n` };
}
