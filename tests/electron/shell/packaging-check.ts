// What a packaging configuration must get right, as one function that lists
// the problems of a given electron-builder config (empty: none), so the test
// can run it on electron-builder.yml and on broken copies of it alike. The
// file sets are evaluated by electron-builder's own matchers (app-builder-lib,
// a devDependency), not by a copy of its glob rules: what they say is packed
// or unpacked is what `electron-builder` would pack or unpack.
import * as fs from 'node:fs';
import { createRequire } from 'node:module';
import * as path from 'node:path';

import { elfNeeded, isElf } from './elf-needed';

interface Stat {
  isDirectory(): boolean;
  isFile(): boolean;
}
type Filter = (file: string, stat: Stat) => boolean;
interface FileMatcher {
  from: string;
  createFilter(): Filter;
}
interface FileMatcherModule {
  FileMatcher: new (from: string, to: string, macroExpander: (p: string) => string, patterns: string[]) => FileMatcher;
  getFileMatchers(
    config: unknown,
    name: 'files' | 'asarUnpack' | 'extraResources' | 'extraFiles',
    destination: string,
    options: { macroExpander: (p: string) => string; customBuildOptions: object; globalOutDir: string; defaultSrc: string },
  ): FileMatcher[] | null;
}
const builder = createRequire(__filename)('app-builder-lib/out/fileMatcher') as FileMatcherModule;

export type BuilderConfig = Record<string, unknown>;

/** Libraries every Linux desktop has (glibc, the GCC runtime): never shipped, never a problem. */
export const SYSTEM_LIBRARIES = new Set([
  'libc.so.6',
  'libm.so.6',
  'libdl.so.2',
  'librt.so.1',
  'libpthread.so.0',
  'ld-linux-x86-64.so.2',
  'ld-linux-aarch64.so.1',
  // The C++ and GCC runtimes: on every glibc desktop (and in every deb's base).
  'libstdc++.so.6',
  'libgcc_s.so.1',
]);

/** Libraries of the user's NVIDIA driver: they must match the installed driver, so they are never bundled. */
export const DRIVER_LIBRARIES = new Set(['libcuda.so.1', 'libnvidia-ml.so.1']);

/** What the check needs to know about the built tree. */
export interface BuiltTree {
  /** The repository root (electron-builder's app directory). */
  root: string;
  /** The addon's files, relative to root (build/addon/Release/keymate.node and what lies beside it). */
  addonFiles: string[];
  /** Native modules of dependencies (serialport's prebuilds), relative to root. */
  dependencyNodeFiles: string[];
  /** file (relative) -> the libraries it needs (DT_NEEDED). */
  needed: Map<string, string[]>;
}

const ADDON_DIR = 'build/addon/Release';
const identity = (p: string): string => p;
const fileStat: Stat = { isDirectory: () => false, isFile: () => true };

function matcherFilter(config: BuilderConfig, name: 'files' | 'asarUnpack', root: string): Filter | null {
  const matchers = builder.getFileMatchers(config, name, root, {
    macroExpander: identity,
    customBuildOptions: {},
    globalOutDir: path.join(root, 'out'),
    defaultSrc: root,
  });
  const main = matchers?.find((m) => m.from === root);
  return main === undefined ? null : main.createFilter();
}

/**
 * electron-builder's node_modules matcher: everything, minus the exclusions
 * ("!..." patterns) of `files` (app-builder-lib getNodeModuleFileMatcher).
 */
function nodeModulesFilter(config: BuilderConfig, root: string): Filter {
  const files = Array.isArray(config['files']) ? (config['files'] as unknown[]) : [];
  const exclusions = files.filter((p): p is string => typeof p === 'string' && p.startsWith('!'));
  return new builder.FileMatcher(root, root, identity, ['**/*', ...exclusions]).createFilter();
}

function targetNames(platform: unknown): string[] {
  const target = (platform as { target?: unknown } | undefined)?.target;
  const list = Array.isArray(target) ? (target as unknown[]) : target === undefined ? [] : [target];
  return list.map((t) => (typeof t === 'string' ? t : String((t as { target?: unknown }).target)));
}

/** The built tree as it is on disk now: the addon folder, serialport's prebuilds, and DT_NEEDED of every ELF file in the addon folder. */
export function readBuiltTree(root: string): BuiltTree {
  const dir = path.join(root, ADDON_DIR);
  const addonFiles = fs.existsSync(dir) ? fs.readdirSync(dir).map((f) => `${ADDON_DIR}/${f}`) : [];
  const needed = new Map<string, string[]>();
  for (const f of addonFiles) {
    const full = path.join(root, f);
    if (fs.statSync(full).isFile() && isElf(full)) needed.set(f, elfNeeded(full));
  }
  const prebuilds = path.join(root, 'node_modules', '@serialport', 'bindings-cpp', 'prebuilds');
  const dependencyNodeFiles = fs.existsSync(prebuilds)
    ? (fs.readdirSync(prebuilds, { recursive: true }) as string[])
        .filter((f) => f.endsWith('.node'))
        .map((f) => path.posix.join('node_modules/@serialport/bindings-cpp/prebuilds', f.split(path.sep).join('/')))
    : [];
  return { root, addonFiles, dependencyNodeFiles, needed };
}

/** Every way `config` would make a broken or oversized package of `tree`; empty when there is none. */
export function packagingProblems(config: BuilderConfig, tree: BuiltTree): string[] {
  const problems: string[] = [];
  const { root } = tree;
  const packedFilter = matcherFilter(config, 'files', root);
  const unpackFilter = matcherFilter(config, 'asarUnpack', root);
  const modulesFilter = nodeModulesFilter(config, root);
  if (packedFilter === null) return ['files: no file patterns (electron-builder would pack the whole repository)'];
  const packed = (rel: string): boolean =>
    rel.startsWith('node_modules/') ? modulesFilter(path.join(root, rel), fileStat) : packedFilter(path.join(root, rel), fileStat);
  const unpacked = (rel: string): boolean => unpackFilter !== null && unpackFilter(path.join(root, rel), fileStat);

  if (config['asar'] === false) problems.push('asar: false ships the app as loose files; keep the asar and unpack the native parts');

  // What the app cannot start without.
  const main = (config['extraMetadata'] as { main?: unknown } | undefined)?.main;
  if (main !== 'dist/electron/shell/main.js') problems.push(`extraMetadata.main is ${JSON.stringify(main)}, not dist/electron/shell/main.js`);
  for (const rel of ['package.json', 'dist/electron/shell/main.js', 'dist/electron/shell/preload.cjs', 'dist/renderer/index.html', 'dist/electron/host/host.js']) {
    if (!packed(rel)) problems.push(`files: ${rel} is not packed`);
  }

  // The addon and everything beside it: packed, and outside the asar (a .node
  // or .so cannot be loaded from inside it). The canonical name is checked even
  // before the addon is built.
  const native = new Set([`${ADDON_DIR}/keymate.node`, ...tree.addonFiles.filter((f) => /\.(node|dll)$|\.so(\.|$)/.test(f))]);
  for (const rel of native) {
    if (!packed(rel)) problems.push(`files: ${rel} is not packed`);
    if (!unpacked(rel)) problems.push(`asarUnpack: ${rel} would stay inside the asar, where it cannot be loaded`);
  }
  for (const rel of tree.dependencyNodeFiles) {
    if (packed(rel) && !unpacked(rel)) problems.push(`asarUnpack: ${rel} would stay inside the asar, where it cannot be loaded`);
  }

  // Every library the addon loads is the system's, the driver's, or shipped beside it.
  const beside = new Set(tree.addonFiles.map((f) => path.posix.basename(f)));
  for (const [file, libs] of tree.needed) {
    for (const lib of libs) {
      if (SYSTEM_LIBRARIES.has(lib) || DRIVER_LIBRARIES.has(lib)) continue;
      if (!beside.has(lib)) {
        problems.push(`${file} needs ${lib}, which is neither a system nor a driver library and is not beside the addon to be shipped`);
      } else if (!packed(`${ADDON_DIR}/${lib}`) || !unpacked(`${ADDON_DIR}/${lib}`)) {
        problems.push(`${file} needs ${lib}, which would not be shipped outside the asar`);
      }
    }
  }

  // What must never be in the package: models, the driver's libraries, tests, source maps.
  const never = [
    'models/stories260K.gguf',
    'dist/models/x.gguf',
    `${ADDON_DIR}/model.gguf`,
    'model.gguf.part',
    'node_modules/some-package/weights.gguf',
    `${ADDON_DIR}/libcuda.so.1`,
    `${ADDON_DIR}/libnvidia-ml.so.1`,
    `${ADDON_DIR}/nvcuda.dll`,
    `${ADDON_DIR}/nvml.dll`,
    'dist/tests/electron/shell/packaging.test.js',
    'dist/electron/shell/main.js.map',
    'dist/screenshots/first-run.png',
    'dist/scripts/reference/compare.js',
    'tests/fixtures/text/stories.txt',
  ];
  for (const rel of never) if (packed(rel)) problems.push(`files: ${rel} would be packed`);

  // Extra resources land outside the asar, next to it: nothing there may carry models.
  for (const key of ['extraResources', 'extraFiles'] as const) {
    const entries = config[key] === undefined ? [] : Array.isArray(config[key]) ? (config[key] as unknown[]) : [config[key]];
    for (const e of entries) {
      const text = JSON.stringify(e);
      if (/gguf|models/i.test(text)) problems.push(`${key}: ${text} would ship models; they belong in the user's data folder`);
    }
  }

  const linux = targetNames(config['linux']);
  if (!(linux.includes('AppImage') && linux.includes('deb'))) problems.push(`linux.target is ${JSON.stringify(linux)}, not AppImage and deb`);
  if (!targetNames(config['win']).includes('nsis')) problems.push(`win.target is ${JSON.stringify(targetNames(config['win']))}, without nsis`);
  const linuxConfig = config['linux'] as { maintainer?: unknown } | undefined;
  if (linux.includes('deb') && typeof linuxConfig?.maintainer !== 'string') {
    problems.push('linux.maintainer is missing: a deb needs one and package.json has no author');
  }
  return problems;
}
