// Where the Electron binary is, found the way the electron package finds it
// (ELECTRON_OVERRIDE_DIST_PATH, else node_modules/electron/path.txt + dist/),
// but without requiring the package: its index.js starts a download when the
// binary is missing, and this machine may have no network for that.
import * as fs from 'node:fs';
import * as path from 'node:path';

export type ElectronBinary = { ok: true; path: string } | { ok: false; reason: string };

export function findElectronBinary(packageDir: string, env: NodeJS.ProcessEnv = process.env, platform = process.platform): ElectronBinary {
  const pathFile = path.join(packageDir, 'path.txt');
  const relative = fs.existsSync(pathFile) ? fs.readFileSync(pathFile, 'utf8').trim() : '';
  const override = env['ELECTRON_OVERRIDE_DIST_PATH'];
  let binary: string;
  if (override !== undefined && override !== '') {
    binary = path.join(override, relative !== '' ? relative : platform === 'win32' ? 'electron.exe' : 'electron');
  } else if (relative !== '') {
    binary = path.join(packageDir, 'dist', relative);
  } else {
    return { ok: false, reason: `the Electron binary was never downloaded (no ${pathFile})` };
  }
  if (!fs.existsSync(binary)) return { ok: false, reason: `the Electron binary is missing (${binary})` };
  return { ok: true, path: binary };
}
