// Bundles the preload (electron/shell/preload.ts and the contract it uses)
// into one CommonJS file, dist/electron/shell/preload.cjs: a sandboxed
// preload may require nothing but 'electron', so zod and the contract must be
// inside it. Run after the TypeScript build (it writes next to its output).
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

import { defineConfig } from 'vite';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

export default defineConfig({
  root,
  logLevel: 'warn',
  build: {
    outDir: `${root}/dist/electron/shell`,
    emptyOutDir: false,
    target: 'node20',
    minify: false,
    sourcemap: true,
    lib: {
      entry: `${root}/electron/shell/preload.ts`,
      formats: ['cjs'],
      fileName: () => 'preload.cjs',
    },
    rollupOptions: { external: ['electron'] },
  },
});
