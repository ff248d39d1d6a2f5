// Builds the UI into dist/renderer/ (index.html + hashed assets). `base: './'`
// makes every URL relative, so the same bundle works from Electron's file URL
// and from `keymate serve`'s HTTP server. No inline scripts or styles are
// emitted, which is what the strict CSP in index.html (and the shell's) needs.
// Vite replaces import.meta.dirname with this file's folder when it loads the
// config, so the build works from any working directory.
import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

const renderer = `${import.meta.dirname}/..`;

export default defineConfig({
  root: renderer,
  base: './',
  plugins: [react()],
  logLevel: 'warn',
  build: {
    outDir: `${renderer}/../dist/renderer`,
    emptyOutDir: true,
    target: 'es2022',
    // An inlined asset would be a data: URL; keep the CSP's img-src simple.
    assetsInlineLimit: 0,
    sourcemap: true,
    chunkSizeWarningLimit: 1024,
  },
});
