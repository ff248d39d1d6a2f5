// Finds and loads the compiled addon (keymate.node) once per process. Where it
// looks: $KEYMATE_ADDON when set (a packaged app or a custom build), else
// cmake-js's output under build/addon/. Every failure is an AddonError with
// one line a user can act on ("run npm install to build it").
import * as fs from 'node:fs';
import * as path from 'node:path';

import { ADDON_ABI_VERSION, type NativeAddon } from './native';
import { packageRoot } from './package-root';

export class AddonError extends Error {
  override readonly name = 'AddonError';
}

/** Candidate locations, most specific first. */
export function addonCandidates(env: NodeJS.ProcessEnv = process.env): string[] {
  const explicit = env['KEYMATE_ADDON'];
  if (explicit !== undefined && explicit !== '') return [path.resolve(explicit)];
  const out = path.join(packageRoot(), 'build', 'addon');
  return ['Release', 'RelWithDebInfo', 'Debug'].map((config) => path.join(out, config, 'keymate.node'));
}

let loaded: NativeAddon | undefined;

export function loadAddon(): NativeAddon {
  if (loaded !== undefined) return loaded;
  const candidates = addonCandidates();
  const file = candidates.find((c) => fs.existsSync(c));
  if (file === undefined) {
    throw new AddonError(`native addon: ${candidates[0] ?? 'keymate.node'}: not built (run npm install to build it)`);
  }
  const mod: { exports: unknown } = { exports: {} };
  try {
    process.dlopen(mod, file);
  } catch (e) {
    const why = e instanceof Error ? e.message.split('\n')[0] : String(e);
    throw new AddonError(`native addon: ${file}: cannot be loaded: ${why} (rebuild it with npm install)`);
  }
  const addon = mod.exports as Partial<NativeAddon>;
  if (addon.abiVersion !== ADDON_ABI_VERSION || typeof addon.EngineHandle !== 'function') {
    throw new AddonError(
      `native addon: ${file}: built for interface ${String(addon.abiVersion)}, this code needs ${ADDON_ABI_VERSION} (rebuild it with npm install)`,
    );
  }
  loaded = addon as NativeAddon;
  return loaded;
}
