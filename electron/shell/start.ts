// `npm start`: launches the Electron app when its binary is there, and says
// clearly what to do when it is not (installs made with
// ELECTRON_SKIP_BINARY_DOWNLOAD, machines without network). Before launching
// it makes what the window needs and the TypeScript build does not: the
// sandboxed preload bundle and, if missing, the renderer build.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

import { packageRoot } from '../host/engine/package-root';
import { findElectronBinary } from './electron-binary';

function run(what: string, command: string, args: string[], cwd: string): void {
  const r = spawnSync(command, args, { cwd, stdio: 'inherit', shell: process.platform === 'win32' });
  if (r.status !== 0) {
    process.stderr.write(`keymate start: ${what} failed (exit ${String(r.status)})\n`);
    process.exit(1);
  }
}

function main(): void {
  const root = packageRoot();
  const binary = findElectronBinary(path.join(root, 'node_modules', 'electron'));
  if (!binary.ok) {
    process.stderr.write(
      `keymate start: cannot start the app: ${binary.reason}.\n` +
        `  Install it with network access (npx install-electron), or run the same app in a browser:\n` +
        `  npm run serve   (prints a URL on 127.0.0.1 to open)\n`,
    );
    process.exit(1);
  }
  const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
  if (!fs.existsSync(path.join(root, 'dist', 'renderer', 'index.html'))) run('the renderer build', npm, ['run', 'build:renderer'], root);
  run('the preload bundle', npm, ['exec', '--', 'vite', 'build', '--config', 'electron/shell/preload.vite.config.mjs'], root);
  const r = spawnSync(binary.path, [path.join(root, 'dist', 'electron', 'shell', 'main.js'), ...process.argv.slice(2)], { stdio: 'inherit' });
  process.exit(r.status ?? 1);
}

main();
