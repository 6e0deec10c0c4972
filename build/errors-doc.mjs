#!/usr/bin/env node
// Writes docs/errors.md from the error registry (src/core/error-codes/). Run it after adding or
// changing a code; test/unit/error-codes.test.ts fails while the committed file is out of date.
//   node build/errors-doc.mjs          write docs/errors.md
//   node build/errors-doc.mjs --check  exit 1 if docs/errors.md differs
import { build } from 'esbuild';
import { readFileSync, writeFileSync, existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const out = await build({ entryPoints: [path.join(root, 'src/core/error-codes/doc.ts')], bundle: true, format: 'esm', platform: 'node', write: false });
const { renderErrorsDoc } = await import(`data:text/javascript;base64,${Buffer.from(out.outputFiles[0].text).toString('base64')}`);
const file = path.join(root, 'docs/errors.md');
const text = renderErrorsDoc();
if (process.argv.includes('--check')) {
  const same = existsSync(file) && readFileSync(file, 'utf8') === text;
  if (!same) process.stderr.write('docs/errors.md is out of date: run node build/errors-doc.mjs\n');
  process.exit(same ? 0 : 1);
}
writeFileSync(file, text);
