import { readdirSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { defineConfig } from 'electron-vite';
import react from '@vitejs/plugin-react';
import { parse } from 'yaml';

/**
 * The built-in ceremony scripts' summaries, for the renderer: the home screen shows their Start
 * buttons at once, before its first IPC call answers (the answer then replaces them).
 */
function builtinCeremonies(): Array<{ id: string; title: string; version: string; description: string }> {
  const dir = resolve(__dirname, 'resources/ceremonies');
  return readdirSync(dir)
    .filter((f) => f.endsWith('.yaml') && !f.startsWith('demo-'))
    .sort()
    .map((f) => {
      const s = parse(readFileSync(resolve(dir, f), 'utf8')) as Record<string, unknown>;
      return { id: String(s.id), title: String(s.title), version: String(s.version), description: String(s.description ?? '').trim() };
    });
}

// Native modules (pkcs11js, sqlite3) stay external to the main bundle: electron-vite
// externalizes dependencies by default for main and preload.
export default defineConfig({
  main: {
    // Test-only switches are compiled out of the shipped main process (see build/bundle-node.mjs).
    define: { 'process.env.KEYRITE_FAULT_KILL_AT': 'undefined', 'process.env.KEYRITE_FAULT_TRACE': 'undefined' },
    build: {
      outDir: 'out/main',
      // module-probe-child: the utility process that test-loads a PKCS#11 module before it is saved.
      // transcript-verify-worker: verify's worker threads (src/core/transcript/line-pool.ts finds it).
      rollupOptions: {
        input: {
          index: resolve(__dirname, 'src/main/index.ts'),
          'module-probe-child': resolve(__dirname, 'src/main/module-probe-child.ts'),
          'transcript-verify-worker': resolve(__dirname, 'src/core/transcript/verify-worker.ts'),
        },
      },
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
    define: { __BUILTIN_CEREMONIES__: JSON.stringify(builtinCeremonies()) },
    build: {
      outDir: resolve(__dirname, 'out/renderer'),
      rollupOptions: { input: { index: resolve(__dirname, 'src/renderer/index.html') } },
    },
  },
});
