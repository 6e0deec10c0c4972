// The gates `npm test` runs before any test: what tsc and the layer rules catch and no test would
// (a type error in the IPC contract, a core module importing electron). Kept apart from
// build/test.mjs so test/unit/gates.test.ts can prove each gate fails on a probe.
// Same commands as `npm run typecheck` and `npm run lint`.
export const GATES = [
  { name: 'typecheck (node: core, main, preload, cli, tests)', tool: 'tsc', args: ['-p', 'tsconfig.node.json', '--noEmit'] },
  { name: 'typecheck (web: renderer, shared)', tool: 'tsc', args: ['-p', 'tsconfig.web.json', '--noEmit'] },
  { name: 'lint (import boundaries and test hygiene)', tool: 'eslint', args: ['.'] },
];
