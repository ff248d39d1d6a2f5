// The repository (package) root, found from this file's own location, so the
// compiled code finds build outputs and package.json wherever the checkout is.
import * as fs from 'node:fs';
import * as path from 'node:path';

let cached: string | undefined;

/** The nearest folder above this file whose package.json names "keymate". */
export function packageRoot(): string {
  if (cached !== undefined) return cached;
  for (let dir = __dirname; ; ) {
    const manifest = path.join(dir, 'package.json');
    if (fs.existsSync(manifest)) {
      const parsed: unknown = JSON.parse(fs.readFileSync(manifest, 'utf8'));
      if (typeof parsed === 'object' && parsed !== null && (parsed as { name?: unknown }).name === 'keymate') {
        cached = dir;
        return dir;
      }
    }
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error(`package root: no package.json named "keymate" above ${__dirname}`);
    dir = parent;
  }
}

/** package.json's version. */
export function packageVersion(): string {
  const parsed = JSON.parse(fs.readFileSync(path.join(packageRoot(), 'package.json'), 'utf8')) as { version?: unknown };
  return typeof parsed.version === 'string' ? parsed.version : '0.0.0';
}
