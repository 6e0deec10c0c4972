import { resolve } from 'node:path';
import { defineConfig } from 'electron-vite';
import react from '@vitejs/plugin-react';

// Native modules (pkcs11js, sqlite3) stay external to the main bundle: electron-vite
// externalizes dependencies by default for main and preload.
export default defineConfig({
  main: {
    build: {
      outDir: 'out/main',
      // module-probe-child: the utility process that test-loads a PKCS#11 module before it is saved.
      rollupOptions: { input: { index: resolve(__dirname, 'src/main/index.ts'), 'module-probe-child': resolve(__dirname, 'src/main/module-probe-child.ts') } },
    },
  },
  preload: {
    build: {
      // A sandboxed preload can require nothing but 'electron': bundle zod and the contract in.
      externalizeDeps: false,
      outDir: 'out/preload',
      rollupOptions: { input: { index: resolve(__dirname, 'src/preload/index.ts') }, output: { format: 'cjs' } },
    },
  },
  renderer: {
    root: resolve(__dirname, 'src/renderer'),
    plugins: [react()],
    build: {
      outDir: resolve(__dirname, 'out/renderer'),
      rollupOptions: { input: { index: resolve(__dirname, 'src/renderer/index.html') } },
    },
  },
});
