#!/usr/bin/env node
// `npm test`: set up what is missing, run the gates (tsc for the node and web sides, ESLint with
// the import-boundary zones), build, then run every test (unit, SoftHSM integration, Playwright
// end-to-end) with vitest, and print the plain totals line CI reads. A failed gate fails the run
// and counts as a failure in the totals line, but the tests still run so the counts stay useful.
import { mkdirSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import path from 'node:path';
import { GATES } from './gates.mjs';
import { ensureAptPackages, ensureNodeModules, root, run } from './setup.mjs';

ensureAptPackages(['softhsm2', 'opensc', 'openssl', 'chromium', 'xvfb', 'libnss3', 'libnss3-tools', 'python3-cryptography', 'jq', 'iproute2', 'gnupg']);
ensureNodeModules();

const env = { ...process.env, ELECTRON_SKIP_BINARY_DOWNLOAD: '1' };
const tmp = path.join(root, '.tmp');
const report = path.join(tmp, 'vitest-report.json');
const totals = path.join(tmp, 'test-totals.txt');
// A stale report or totals line from an earlier run must never stand in for this one (CI reads
// test-totals.txt even when the build fails before vitest starts).
rmSync(report, { force: true });
rmSync(totals, { force: true });

const failedGates = GATES.filter((g) => run('npx', ['--no-install', g.tool, ...g.args], { env }) !== 0).map((g) => g.name);
for (const name of failedGates) process.stderr.write(`[keyrite test] gate failed: ${name}\n`);
if (run('node', ['build/build-cli.mjs'], { env }) !== 0) process.exit(1);
if (run('npx', ['electron-vite', 'build', '--logLevel', 'warn'], { env }) !== 0) process.exit(1);

mkdirSync(tmp, { recursive: true });
const args = ['vitest', 'run', '--reporter=default', `--reporter=json`, `--outputFile.json=${report}`, ...process.argv.slice(2)];
const status = run('npx', args, { env });

let line = `0 passed, ${1 + failedGates.length} failed, 0 skipped`;
if (existsSync(report)) {
  const r = JSON.parse(readFileSync(report, 'utf8'));
  const skipped = (r.numPendingTests ?? 0) + (r.numTodoTests ?? 0);
  const failed = (r.numFailedTests ?? 0) + (status !== 0 && r.numFailedTests === 0 ? 1 : 0) + failedGates.length;
  line = `${r.numPassedTests ?? 0} passed, ${failed} failed, ${skipped} skipped`;
}
// Repeat which gates failed next to the totals (on stderr, so the totals line itself stays plain).
for (const name of failedGates) process.stderr.write(`[keyrite test] gate failed: ${name}\n`);
writeFileSync(totals, line + '\n');
process.stdout.write(`\n${line}\n`);
process.exit(status !== 0 ? status : failedGates.length ? 1 : 0);
