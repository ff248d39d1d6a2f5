// electron-builder.yml, checked without building a package (Electron's binary
// cannot be fetched here): electron-builder's own matchers decide what the
// file sets pack and unpack, and the built addon's DT_NEEDED entries say which
// libraries it loads. Each rule is also shown to reject a config that breaks it.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import { createRequire } from 'node:module';
import * as path from 'node:path';
import { test } from 'node:test';

import { root } from '../../support/repo';
import { elfNeeded, isElf } from './elf-needed';
import { type BuilderConfig, type BuiltTree, packagingProblems, readBuiltTree } from './packaging-check';

const yaml = createRequire(__filename)('js-yaml') as { load: (text: string) => unknown };
const config = (): BuilderConfig => yaml.load(fs.readFileSync(path.join(root, 'electron-builder.yml'), 'utf8')) as BuilderConfig;
const addon = path.join(root, 'build', 'addon', 'Release', 'keymate.node');

/** The tree as built, or, before the addon exists, the tree it will be. */
function tree(): BuiltTree {
  const t = readBuiltTree(root);
  return t.addonFiles.length > 0 ? t : { ...t, addonFiles: ['build/addon/Release/keymate.node'] };
}

test('electron-builder.yml packs the app and the addon, unpacks every native file, and packs no model', () => {
  assert.deepEqual(packagingProblems(config(), tree()), []);
  // The packaged app loads the addon from where asarUnpack puts it.
  const main = fs.readFileSync(path.join(root, 'electron', 'shell', 'main.ts'), 'utf8');
  assert.match(main, /'app\.asar\.unpacked', 'build', 'addon', 'Release', 'keymate\.node'/);
});

test('the built addon loads only system and driver libraries, or ones shipped beside it', { skip: !fs.existsSync(addon) && 'the addon is not built (npm run build:addon)' }, () => {
  const t = readBuiltTree(root);
  assert.ok(t.needed.has('build/addon/Release/keymate.node'), 'keymate.node is read as ELF');
  // The CUDA runtime is linked statically (kernels/CMakeLists.txt): no libcudart to ship, whatever the build.
  for (const [file, libs] of t.needed) {
    assert.ok(!libs.some((l) => l.startsWith('libcudart')), `${file} needs a shared CUDA runtime: ${libs.join(', ')}`);
  }
  assert.deepEqual(packagingProblems(config(), t), []);
});

test('the DT_NEEDED reader reads a real library', { skip: process.platform !== 'linux' && 'ELF only' }, () => {
  // The loader's own dependents: libstdc++ always needs libc and libm.
  const candidates = ['/lib/x86_64-linux-gnu/libstdc++.so.6', '/usr/lib/x86_64-linux-gnu/libstdc++.so.6', '/lib/aarch64-linux-gnu/libstdc++.so.6'];
  const lib = candidates.find((f) => fs.existsSync(f));
  if (lib === undefined) return;
  const needed = elfNeeded(fs.realpathSync(lib));
  assert.ok(needed.includes('libc.so.6') && needed.includes('libm.so.6'), needed.join(', '));
  assert.equal(isElf(path.join(root, 'package.json')), false);
  assert.throws(() => elfNeeded(path.join(root, 'package.json')), /not an ELF file/);
});

test('a config that leaves the .node inside the asar is rejected', () => {
  const broken = { ...config(), asarUnpack: ['build/addon/Release/*.so*'] };
  const problems = packagingProblems(broken, tree());
  assert.ok(problems.includes('asarUnpack: build/addon/Release/keymate.node would stay inside the asar, where it cannot be loaded'), problems.join('\n'));
  assert.ok(
    problems.some((p) => /asarUnpack: node_modules\/@serialport\/.*\.node would stay inside the asar/.test(p)) || tree().dependencyNodeFiles.length === 0,
    'serialport\'s prebuilds too',
  );
  const none: BuilderConfig = { ...config() };
  delete none['asarUnpack'];
  assert.ok(packagingProblems(none, tree()).some((p) => p.includes('keymate.node would stay inside the asar')));
});

test('a config that forgets the addon, or packs models, tests or the driver\'s libraries, is rejected', () => {
  const files = (config()['files'] as string[]).slice();
  const without = (drop: (p: string) => boolean): BuilderConfig => ({ ...config(), files: files.filter((p) => !drop(p)) });

  assert.ok(packagingProblems(without((p) => p.endsWith('*.node')), tree()).includes('files: build/addon/Release/keymate.node is not packed'));
  assert.ok(packagingProblems(without((p) => p === '!**/*.gguf'), tree()).includes('files: dist/models/x.gguf would be packed'));
  assert.ok(packagingProblems({ ...config(), files: [...files, 'models/**'] }, tree()).includes('files: models/stories260K.gguf would be packed'));
  assert.ok(packagingProblems(without((p) => p === '!**/*.gguf'), tree()).includes('files: node_modules/some-package/weights.gguf would be packed'));
  assert.ok(packagingProblems(without((p) => p.startsWith('!dist/tests')), tree()).includes('files: dist/tests/electron/shell/packaging.test.js would be packed'));
  assert.ok(packagingProblems(without((p) => p.includes('libcuda')), tree()).includes('files: build/addon/Release/libcuda.so.1 would be packed'));
  assert.deepEqual(packagingProblems({ ...config(), files: undefined }, tree()), ['files: no file patterns (electron-builder would pack the whole repository)']);
  assert.ok(
    packagingProblems({ ...config(), extraResources: [{ from: '../shared/models', to: 'models' }] }, tree()).some((p) => p.startsWith('extraResources:')),
  );
});

test('a library the addon needs that is neither the system\'s nor shipped is rejected; the driver\'s are allowed', () => {
  const t = tree();
  const needs = (libs: string[]): BuiltTree => ({ ...t, needed: new Map([['build/addon/Release/keymate.node', libs]]) });
  assert.deepEqual(packagingProblems(config(), needs(['libc.so.6', 'libcuda.so.1', 'libnvidia-ml.so.1'])), []);
  assert.deepEqual(packagingProblems(config(), needs(['libcudart.so.13'])), [
    'build/addon/Release/keymate.node needs libcudart.so.13, which is neither a system nor a driver library and is not beside the addon to be shipped',
  ]);
  // Shipped beside the addon: packed and unpacked by the config, so accepted.
  const beside = { ...needs(['libkeymate_extra.so']), addonFiles: [...t.addonFiles, 'build/addon/Release/libkeymate_extra.so'] };
  assert.deepEqual(packagingProblems(config(), beside), []);
});

test('the targets are AppImage and deb on Linux, NSIS on Windows', () => {
  assert.deepEqual(packagingProblems({ ...config(), linux: { target: ['AppImage'], maintainer: 'x' } }, tree()), ['linux.target is ["AppImage"], not AppImage and deb']);
  assert.deepEqual(packagingProblems({ ...config(), win: { target: [{ target: 'portable' }] } }, tree()), ['win.target is ["portable"], without nsis']);
  assert.deepEqual(packagingProblems({ ...config(), asar: false }, tree()), ['asar: false ships the app as loose files; keep the asar and unpack the native parts']);
});
