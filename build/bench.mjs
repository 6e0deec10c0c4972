#!/usr/bin/env node
// `npm run bench`: set up what is missing, build the CLI and the renderer (the benchmarks time
// the real `keyrite` command and the real renderer bundle), bundle bench/ with esbuild, and run
// it. Arguments pass through: `npm run bench -- --only shares,store`, `npm run bench -- --quick`.
import { rmSync } from 'node:fs';
import path from 'node:path';
import { ensureAptPackages, ensureNodeModules, root, run } from './setup.mjs';

ensureAptPackages(['softhsm2', 'opensc', 'openssl', 'chromium']);
ensureNodeModules();

const env = { ...process.env, ELECTRON_SKIP_BINARY_DOWNLOAD: '1' };
// A Node process given NODE_EXTRA_CA_CERTS parses every certificate in that file as it starts
// (about 45 ms of CPU for a distribution's ~290 roots on the bench machine), in every spawned
// `keyrite` and `node -e 0` alike. Keyrite makes no TLS connection and an air-gapped workstation
// has no reason to set it, so the benchmarks run without it; docs/benchmarks.md says it was unset.
const unset = ['NODE_EXTRA_CA_CERTS'].filter((k) => env[k] !== undefined);
for (const k of unset) delete env[k];
env.KEYRITE_BENCH_UNSET = unset.join(',');
if (run('node', ['build/build-cli.mjs'], { env }) !== 0) process.exit(1);
if (run('npx', ['electron-vite', 'build', '--logLevel', 'warn'], { env }) !== 0) process.exit(1);

rmSync(path.join(root, 'out/bench'), { recursive: true, force: true });
// Imported only now: on a fresh machine esbuild exists once ensureNodeModules() has run.
const { bundleNode } = await import('./bundle-node.mjs');
// One chunk per benchmark group, loaded only by the process that runs it. The ceremony profiler
// (bench/tools/profile-ceremony.ts) is built beside it: node --enable-source-maps out/bench/profile-ceremony.mjs
// The transcript worker too: the in-process verifyBundle rows use worker threads as the CLI does.
await bundleNode({
  entry: {
    main: path.join(root, 'bench/main.ts'),
    'profile-ceremony': path.join(root, 'bench/tools/profile-ceremony.ts'),
    'transcript-verify-worker': path.join(root, 'src/core/transcript/verify-worker.ts'),
  },
  outdir: path.join(root, 'out/bench'),
});
process.exit(run('node', ['--enable-source-maps', 'out/bench/main.mjs', ...process.argv.slice(2)], { env }));
