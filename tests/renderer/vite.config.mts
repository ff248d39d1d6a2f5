// Compiles the renderer's unit tests (tests/renderer/**/*.test.ts) for Node, so
// `node --test dist/tests/` runs them with every other TypeScript test. Why
// not the root tsc build: the renderer is written for a bundler (extensionless
// ESM imports, JSX), and tsc's CommonJS output of the modules the tests import
// would land in dist/renderer/, beside the UI bundle. A Vite SSR build bundles
// each test with the renderer code it uses into one CommonJS file, leaving
// npm packages (zustand, zod) and Node built-ins as require()s.
import { readdirSync } from 'node:fs';

import { defineConfig } from 'vite';

const repo = `${import.meta.dirname}/../..`;
const testsDir = `${repo}/tests/renderer`;
// Every *.test.ts below tests/renderer/, keeping its folder: store/x.test.ts
// becomes dist/tests/renderer/store/x.test.js.
const entries = Object.fromEntries(
  readdirSync(testsDir, { recursive: true, encoding: 'utf8' })
    .map((f) => f.split('\\').join('/'))
    .filter((f) => f.endsWith('.test.ts'))
    .map((f) => [f.replace(/\.ts$/, ''), `${testsDir}/${f}`]),
);

export default defineConfig({
  root: repo,
  logLevel: 'warn',
  build: {
    ssr: true,
    outDir: `${repo}/dist/tests/renderer`,
    emptyOutDir: true,
    target: 'node20',
    sourcemap: true,
    minify: false,
    rolldownOptions: {
      input: entries,
      output: { format: 'cjs', entryFileNames: '[name].js', chunkFileNames: 'chunks/[name]-[hash].js' },
    },
  },
});
