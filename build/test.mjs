#!/usr/bin/env node
// `npm test`: set up what is missing, build, then run every test (unit, SoftHSM integration,
// Playwright end-to-end) with vitest, and print the plain totals line CI reads.
import { mkdirSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import path from 'node:path';
import { ensureAptPackages, ensureNodeModules, root, run } from './setup.mjs';

ensureAptPackages(['softhsm2', 'opensc', 'openssl', 'chromium', 'xvfb', 'jq']);
ensureNodeModules();

const env = { ...process.env, ELECTRON_SKIP_BINARY_DOWNLOAD: '1' };
if (run('node', ['build/build-cli.mjs'], { env }) !== 0) process.exit(1);
if (run('npx', ['electron-vite', 'build', '--logLevel', 'warn'], { env }) !== 0) process.exit(1);

const tmp = path.join(root, '.tmp');
mkdirSync(tmp, { recursive: true });
const report = path.join(tmp, 'vitest-report.json');
const args = ['vitest', 'run', '--reporter=default', `--reporter=json`, `--outputFile.json=${report}`, ...process.argv.slice(2)];
const status = run('npx', args, { env });

let line = '0 passed, 1 failed, 0 skipped';
if (existsSync(report)) {
  const r = JSON.parse(readFileSync(report, 'utf8'));
  const skipped = (r.numPendingTests ?? 0) + (r.numTodoTests ?? 0);
  const failed = (r.numFailedTests ?? 0) + (status !== 0 && r.numFailedTests === 0 ? 1 : 0);
  line = `${r.numPassedTests ?? 0} passed, ${failed} failed, ${skipped} skipped`;
}
writeFileSync(path.join(tmp, 'test-totals.txt'), line + '\n');
process.stdout.write(`\n${line}\n`);
process.exit(status);
