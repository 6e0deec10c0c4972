import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ESLint } from 'eslint';
import { afterAll, describe, expect, it } from 'vitest';
// @ts-expect-error build/gates.mjs is plain JavaScript without declarations
import { GATES } from '../../build/gates.mjs';

// `npm test` runs these gates before vitest (build/test.mjs). Each must fail on the break it is
// there for: a core → electron import, a renderer → node:fs import, an exclusive test, a type
// error on either side. Probes are linted under the path they would have (ESLint's lintText with
// filePath applies the same per-folder zones as `eslint .`) so no probe file ever lands in src/,
// where a concurrent `eslint .` or source scan could trip over it.
const ROOT = path.resolve(__dirname, '../..');
type Gate = { name: string; tool: string; args: string[] };
const gates = GATES as Gate[];

const eslint = new ESLint({ cwd: ROOT });

async function lint(filePath: string, code: string) {
  const [result] = await eslint.lintText(code, { filePath: path.join(ROOT, filePath) });
  return result.messages.map((m) => ({ rule: m.ruleId, message: m.message }));
}

describe('the gates npm test runs', () => {
  it('typechecks both tsconfigs and lints the whole tree, with the same commands as npm run typecheck/lint', () => {
    const pkg = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
    const commands = gates.map((g) => [g.tool, ...g.args].join(' '));
    expect(commands).toEqual(['tsc -p tsconfig.node.json --noEmit', 'tsc -p tsconfig.web.json --noEmit', 'eslint .']);
    expect(pkg.scripts.typecheck).toBe(`${commands[0]} && ${commands[1]}`);
    expect(pkg.scripts.lint).toBe(commands[2]);
    expect(readFileSync(path.join(ROOT, 'build/test.mjs'), 'utf8')).toMatch(/import \{ GATES \} from '\.\/gates\.mjs'/);
  });
});

describe('import boundaries (eslint.config.mjs)', () => {
  const boundary = (rule: string | null, message: string) => rule === 'no-restricted-imports' && message.includes('Import boundary');

  it.each([
    { name: 'core → electron', file: 'src/core/hsm/probe.ts', code: "import { app } from 'electron';\nexport const a = app;\n" },
    { name: 'core → electron (re-export)', file: 'src/core/probe.ts', code: "export { app } from 'electron';\n" },
    { name: 'core → src/main', file: 'src/core/ceremony/actions/probe.ts', code: "import * as m from '../../../main/security';\nexport const a = m;\n" },
    { name: 'core → src/cli', file: 'src/core/probe.ts', code: "import * as m from '../cli/io';\nexport const a = m;\n" },
    { name: 'core → src/shared', file: 'src/core/store/probe.ts', code: "import * as m from '../../shared/ipc-contract';\nexport const a = m;\n" },
    { name: 'core → src/main under the share tokenizer\'s name', file: 'src/core/backup/probe.ts', code: "import * as m from '../../main/share-text';\nexport const a = m;\n" },
    { name: 'core → src/renderer', file: 'src/core/x509/probe.ts', code: "import * as m from '../../renderer/src/app/hooks';\nexport const a = m;\n" },
    { name: 'renderer → node:fs', file: 'src/renderer/src/screens/Probe.tsx', code: "import { readFileSync } from 'node:fs';\nexport const a = readFileSync;\n" },
    { name: 'renderer → fs (no prefix)', file: 'src/renderer/src/Probe.tsx', code: "import fs from 'fs/promises';\nexport const a = fs;\n" },
    { name: 'renderer → core', file: 'src/renderer/src/app/probe.ts', code: "import * as m from '../../../core/errors';\nexport const a = m;\n" },
    { name: 'renderer → electron', file: 'src/renderer/src/probe.ts', code: "import { ipcRenderer } from 'electron';\nexport const a = ipcRenderer;\n" },
    { name: 'preload → core', file: 'src/preload/probe.ts', code: "import * as m from '../core/errors';\nexport const a = m;\n" },
    { name: 'preload → a package', file: 'src/preload/probe.ts', code: "import { z } from 'zod';\nexport const a = z;\n" },
    { name: 'preload → node:path', file: 'src/preload/probe.ts', code: "import path from 'node:path';\nexport const a = path;\n" },
    { name: 'shared → node:crypto', file: 'src/shared/probe.ts', code: "import { randomBytes } from 'node:crypto';\nexport const a = randomBytes;\n" },
    { name: 'shared → core', file: 'src/shared/probe.ts', code: "import * as m from '../core/errors';\nexport const a = m;\n" },
    { name: 'cli → electron', file: 'src/cli/commands/probe.ts', code: "import { app } from 'electron';\nexport const a = app;\n" },
    { name: 'main → renderer', file: 'src/main/ipc/probe.ts', code: "import * as m from '../../renderer/src/app/hooks';\nexport const a = m;\n" },
  ])('refuses $name', async ({ file, code }) => {
    const messages = await lint(file, code);
    expect(messages.filter((m) => boundary(m.rule, m.message))).toHaveLength(1);
  });

  it.each([
    { name: 'core → its own folders and packages', file: 'src/core/hsm/probe.ts', code: "import { KeyriteError } from '../errors';\nimport * as pkcs11js from 'pkcs11js';\nimport path from 'node:path';\nexport const a = [KeyriteError, pkcs11js, path];\n" },
    { name: 'core → a core folder named like a layer one level down', file: 'src/core/ceremony/actions/probe.ts', code: "import * as m from '../../hsm/errors';\nexport const a = m;\n" },
    { name: 'core → the shared share tokenizer, and only that', file: 'src/core/backup/probe.ts', code: "import { shareTextWords } from '../../shared/share-text';\nexport const a = shareTextWords;\n" },
    { name: 'main → core and shared', file: 'src/main/ipc/probe.ts', code: "import * as c from '../../core/errors';\nimport * as s from '../../shared/ipc-contract';\nimport { app } from 'electron';\nexport const a = [c, s, app];\n" },
    { name: 'renderer → shared and react', file: 'src/renderer/src/app/probe.ts', code: "import * as s from '../../../shared/ipc-contract';\nimport { useState } from 'react';\nexport const a = [s, useState];\n" },
    { name: 'preload → electron and shared', file: 'src/preload/probe.ts', code: "import { contextBridge } from 'electron';\nimport * as s from '../shared/api';\nexport const a = [contextBridge, s];\n" },
    { name: 'cli → core and packages', file: 'src/cli/commands/probe.ts', code: "import * as c from '../../core/errors';\nimport { Command } from 'commander';\nexport const a = [c, Command];\n" },
  ])('allows $name', async ({ file, code }) => {
    expect(await lint(file, code)).toEqual([]);
  });
});

describe('test hygiene', () => {
  it.each([
    "it.only('x', () => {});",
    "describe.skip('x', () => {});",
    "test.todo('x');",
    "it.only.each([1])('x %s', () => {});",
    "it.fails('x', () => {});",
  ])('refuses %s', async (line) => {
    const messages = await lint('test/unit/probe.test.ts', `import { describe, it, test } from 'vitest';\nvoid describe; void test; void it;\n${line}\n`);
    expect(messages.map((m) => m.rule)).toContain('no-restricted-syntax');
  });

  it('allows a skip gated on the environment, which says why', async () => {
    expect(await lint('test/unit/probe.test.ts', "import { it } from 'vitest';\nit.skipIf(process.getuid?.() !== 0)('needs root', () => {});\n")).toEqual([]);
  });

  it('refuses an eslint-disable comment that disables nothing', async () => {
    const messages = await lint('src/core/probe.ts', '// eslint-disable-next-line no-console\nexport const a = 1;\n');
    expect(messages.map((m) => m.message).join('\n')).toMatch(/Unused eslint-disable directive/);
  });

  it('refuses a value import used only as a type', async () => {
    const messages = await lint('src/core/probe.ts', "import { KeyriteError } from './errors';\nexport type A = KeyriteError;\n");
    expect(messages.map((m) => m.rule)).toContain('@typescript-eslint/consistent-type-imports');
  });
});

describe('typecheck gates', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'keyrite-gates-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  // Runs a gate's own tsc command, pointed at a probe through a tsconfig that extends the
  // project's, so the probe is checked with exactly the project's compiler options.
  function tscOn(gateIndex: number, probe: string) {
    const gate = gates[gateIndex];
    const project = gate.args[gate.args.indexOf('-p') + 1];
    const probeFile = path.join(dir, `probe-${gateIndex}.ts`);
    writeFileSync(probeFile, probe);
    const config = path.join(dir, `tsconfig-${gateIndex}.json`);
    writeFileSync(
      config,
      JSON.stringify({
        extends: path.join(ROOT, project),
        compilerOptions: { composite: false, typeRoots: [path.join(ROOT, 'node_modules/@types')] },
        include: [],
        files: [probeFile],
      }),
    );
    const args = gate.args.map((a) => (a === project ? config : a));
    const r = spawnSync(process.execPath, [path.join(ROOT, 'node_modules/typescript/bin/tsc'), ...args], { cwd: ROOT, encoding: 'utf8' });
    return { status: r.status, out: r.stdout + r.stderr };
  }

  it('node side: a wrong type against the IPC contract fails tsc', () => {
    const contract = path.join(ROOT, 'src/shared/ipc-contract').replace(/\\/g, '/');
    const r = tscOn(0, `import type { CeremonyViewData } from '${contract}';\nexport const head: CeremonyViewData['chainHead'] = { seq: '7', hash: 'ab' };\n`);
    expect(r.status).not.toBe(0);
    expect(r.out).toMatch(/error TS2322/);
  });

  it('node side: the same probe with the right type passes, so the failure above is the type error', () => {
    const contract = path.join(ROOT, 'src/shared/ipc-contract').replace(/\\/g, '/');
    const r = tscOn(0, `import type { CeremonyViewData } from '${contract}';\nexport const head: CeremonyViewData['chainHead'] = { seq: 7, hash: 'ab' };\n`);
    expect(r.out).toBe('');
    expect(r.status).toBe(0);
  });

  it('web side: a type error fails tsc', () => {
    const r = tscOn(1, "export const n: number = document.title;\n");
    expect(r.status).not.toBe(0);
    expect(r.out).toMatch(/error TS2322/);
  });
});
