// ESLint 9 flat config. Two jobs:
//  1. keep the layers apart (docs/architecture.md): each folder under src/ may import only the
//     layers below it — a core → electron import or a renderer → node:fs import fails `npm test`;
//  2. test and code hygiene that tsc does not check: no exclusive or skipped tests, no stale
//     eslint-disable comments, type-only imports marked as such.
import { builtinModules } from 'node:module';
import js from '@eslint/js';
import globals from 'globals';
import tseslint from 'typescript-eslint';

const CODE = '**/*.{ts,tsx,mts,cts,js,mjs,cjs}';

// Node's built-in modules, with and without the `node:` prefix (`fs`, `node:fs`, `fs/promises`).
const NODE_BUILTINS = [`^node:`, `^(${builtinModules.map((m) => m.replace(/\//g, '\\/')).join('|')})(\\/.*)?$`];

// The layers under src/ and what each must not reach. `forbiddenLayers` are sibling folders of
// src/; `forbiddenModules` are regexes over bare specifiers.
const LAYERS = {
  core: {
    why: 'src/core is plain Node: it runs under the CLI and the app alike and never knows which',
    forbiddenLayers: ['shared', 'main', 'preload', 'renderer', 'cli'],
    forbiddenModules: ['^electron(\\/.*)?$', '^react(-dom)?(\\/.*)?$'],
  },
  shared: {
    why: 'src/shared is loaded by main, preload and the sandboxed renderer, so it holds only pure code',
    forbiddenLayers: ['core', 'main', 'preload', 'renderer', 'cli'],
    forbiddenModules: ['^electron(\\/.*)?$', ...NODE_BUILTINS],
  },
  renderer: {
    why: 'the renderer is untrusted web content: no Node, no Electron, no core; it talks to main only through the preload bridge',
    forbiddenLayers: ['core', 'main', 'preload', 'cli'],
    forbiddenModules: ['^electron(\\/.*)?$', ...NODE_BUILTINS],
  },
  preload: {
    why: 'the sandboxed preload only bridges channels declared in src/shared; it imports electron and src/shared, nothing else',
    forbiddenLayers: ['core', 'main', 'renderer', 'cli'],
    // Any bare specifier except electron: packages and node builtins alike (relative imports
    // are checked by layer).
    forbiddenModules: ['^(?!electron$)[^./]'],
  },
  main: {
    why: 'main wires Electron to the core; it must not reach into the renderer, the preload or the CLI',
    forbiddenLayers: ['renderer', 'preload', 'cli'],
    forbiddenModules: [],
  },
  cli: {
    why: 'the CLI drives the core from a terminal; it never loads Electron or the app',
    forbiddenLayers: ['shared', 'main', 'preload', 'renderer'],
    forbiddenModules: ['^electron(\\/.*)?$', '^react(-dom)?(\\/.*)?$'],
  },
};

// no-restricted-imports matches the specifier text, not the resolved file, so a relative import
// into another layer looks different at each folder depth: from src/core/hsm/x.ts, src/shared is
// `../../shared`. Emit one block per depth so `../../shared` is caught exactly where it means
// src/shared (and `../shared` from src/core/x.ts, and so on).
const MAX_DEPTH = 6;
const escape = (s) => s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');

function boundaryBlocks() {
  const blocks = [];
  for (const [layer, rule] of Object.entries(LAYERS)) {
    for (let depth = 0; depth <= MAX_DEPTH; depth++) {
      const dirs = Array(depth).fill('*').join('/');
      const files = [`src/${layer}/${dirs ? dirs + '/' : ''}*.{ts,tsx,mts,cts,js,mjs}`];
      const up = escape('../'.repeat(depth + 1));
      const layers = rule.forbiddenLayers.join('|');
      const patterns = [
        ...(rule.forbiddenLayers.length
          ? [
              {
                // src/shared/share-text.ts and serial-rule.ts are the pure modules the core and the
                // CLI may import: the share tokenizer and the serial rule, on which the core and
                // the renderer's fields must agree.
                regex: `^${up}(?!shared\\/(share-text|serial-rule)$)(${layers})(\\/|$)`,
                message: `Import boundary: src/${layer} must not import another layer (${rule.forbiddenLayers.map((l) => `src/${l}`).join(', ')}) — ${rule.why}.`,
              },
              {
                // The same target spelled through src/ (`../../../src/shared/x`) or from the root.
                regex: `(^|\\/)src\\/(${layers})(\\/|$)`,
                message: `Import boundary: src/${layer} must not import another layer (${rule.forbiddenLayers.map((l) => `src/${l}`).join(', ')}) — ${rule.why}.`,
              },
            ]
          : []),
        ...rule.forbiddenModules.map((regex) => ({
          regex,
          message: `Import boundary: src/${layer} must not import this module — ${rule.why}.`,
        })),
      ];
      if (patterns.length) blocks.push({ files, rules: { 'no-restricted-imports': ['error', { patterns }] } });
    }
  }
  return blocks;
}

// Exclusive or skipped tests silently shrink the suite: `it.only`, `describe.skip`,
// `test.todo`, `it.fails`, also through chains (`it.only.each`). Conditional gates on the
// environment (`it.skipIf(noRoot)`, `it.runIf(canMount)`) stay allowed: they say why.
const NO_EXCLUSIVE_TESTS = {
  selector: "MemberExpression[object.name=/^(it|test|describe|suite|bench)$/][property.name=/^(only|skip|todo|fails)$/]",
  message: 'Exclusive or skipped test: remove `.only`/`.skip`/`.todo`/`.fails` — every test runs in `npm test`.',
};

export default tseslint.config(
  {
    ignores: ['node_modules/**', 'out/**', 'dist/**', '.tmp/**', 'test/e2e/artifacts/**', 'bench/results.json'],
  },
  {
    linterOptions: { reportUnusedDisableDirectives: 'error' },
  },
  {
    files: [CODE],
    extends: [js.configs.recommended, ...tseslint.configs.recommended],
    languageOptions: {
      ecmaVersion: 2023,
      sourceType: 'module',
      globals: { ...globals.node },
    },
    rules: {
      '@typescript-eslint/consistent-type-imports': ['error', { prefer: 'type-imports', fixStyle: 'inline-type-imports' }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' }],
      'no-restricted-syntax': ['error', NO_EXCLUSIVE_TESTS],
    },
  },
  {
    // CommonJS fixtures (the Electron stub loaded by a plain-Node child) use require by design.
    files: ['**/*.cjs'],
    languageOptions: { sourceType: 'commonjs' },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
  {
    files: ['src/renderer/**/*.{ts,tsx}'],
    languageOptions: { globals: { ...globals.browser } },
  },
  ...boundaryBlocks(),
);
