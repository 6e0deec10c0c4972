import { spawn } from 'node:child_process';
import { KeyriteError } from '../errors';

/**
 * Test-load a PKCS#11 module in a separate process before anyone saves it as the module to use:
 * pkcs11js `load` (dlopen + C_GetFunctionList), C_Initialize and C_GetInfo. A file that is not a
 * PKCS#11 library, or one that crashes on load, then takes down the child, not the app, and is
 * refused with a sentence.
 */
export interface ModuleProbeInfo {
  manufacturer: string;
  description: string;
  cryptokiVersion: string;
  libraryVersion: string;
  /**
   * The tokens present (C_GetSlotList(true) + C_GetTokenInfo), so the administrator sees the module
   * reaches their HSM before saving it. An empty label is a token not initialised yet. `tokenError`
   * says why the list is missing when the module loaded but could not list them.
   */
  tokens: ProbedToken[];
  tokenError?: string;
}

export interface ProbedToken {
  label: string;
  serial: string;
  model: string;
  manufacturer: string;
}

export type ProbeReply = ({ ok: true } & ModuleProbeInfo) | { ok: false; stage: 'pkcs11js' | 'load' | 'initialize' | 'info'; message: string };

interface Pkcs11Like {
  PKCS11: new () => {
    load(path: string): void;
    C_Initialize(): void;
    C_GetInfo(): { manufacturerID: string; libraryDescription: string; cryptokiVersion: { major: number; minor: number }; libraryVersion: { major: number; minor: number } };
    C_GetSlotList(tokenPresent: boolean): unknown[];
    C_GetTokenInfo(slot: unknown): { label: string; serialNumber: string; model: string; manufacturerID: string };
    C_Finalize(): void;
  };
}

/** The probe itself, run inside the child (the Electron utility process uses this function). */
export function probeWithPkcs11js(p11: Pkcs11Like, modulePath: string): ProbeReply {
  const mod = new p11.PKCS11();
  try {
    mod.load(modulePath);
  } catch (e) {
    return { ok: false, stage: 'load', message: String((e as Error)?.message ?? e) };
  }
  try {
    mod.C_Initialize();
  } catch (e) {
    const message = String((e as Error)?.message ?? e);
    if (!message.includes('CKR_CRYPTOKI_ALREADY_INITIALIZED')) return { ok: false, stage: 'initialize', message };
  }
  try {
    const info = mod.C_GetInfo();
    const v = (x: { major: number; minor: number }) => `${x.major}.${x.minor}`;
    let tokens: ProbedToken[] = [];
    let tokenError: string | undefined;
    try {
      tokens = mod.C_GetSlotList(true).slice(0, 64).map((slot) => {
        const t = mod.C_GetTokenInfo(slot);
        return { label: t.label.trim(), serial: t.serialNumber.trim(), model: t.model.trim(), manufacturer: t.manufacturerID.trim() };
      });
    } catch (e) {
      tokenError = String((e as Error)?.message ?? e).split('\n')[0].slice(0, 200);
    }
    return { ok: true, manufacturer: info.manufacturerID.trim(), description: info.libraryDescription.trim(), cryptokiVersion: v(info.cryptokiVersion), libraryVersion: v(info.libraryVersion), tokens, ...(tokenError ? { tokenError } : {}) };
  } catch (e) {
    return { ok: false, stage: 'info', message: String((e as Error)?.message ?? e) };
  } finally {
    try {
      mod.C_Finalize();
    } catch {
      // the answer is already known
    }
  }
}

/** The same probe as plain CommonJS for `node -e` (CLI and tests); argv[1] is the module path. */
const NODE_PROBE_SOURCE = `
const out = (o) => process.stdout.write(JSON.stringify(o) + '\\n');
let p11;
try { p11 = require('pkcs11js'); } catch (e) { out({ ok: false, stage: 'pkcs11js', message: String(e && e.message) }); process.exit(0); }
const mod = new p11.PKCS11();
try { mod.load(process.argv[1]); } catch (e) { out({ ok: false, stage: 'load', message: String(e && e.message) }); process.exit(0); }
try { mod.C_Initialize(); } catch (e) { const m = String(e && e.message); if (!m.includes('CKR_CRYPTOKI_ALREADY_INITIALIZED')) { out({ ok: false, stage: 'initialize', message: m }); process.exit(0); } }
try {
  const i = mod.C_GetInfo();
  const v = (x) => x.major + '.' + x.minor;
  let tokens = [], tokenError;
  try {
    tokens = mod.C_GetSlotList(true).slice(0, 64).map((s) => { const t = mod.C_GetTokenInfo(s); return { label: t.label.trim(), serial: t.serialNumber.trim(), model: t.model.trim(), manufacturer: t.manufacturerID.trim() }; });
  } catch (e) { tokenError = String(e && e.message).split('\\n')[0].slice(0, 200); }
  out({ ok: true, manufacturer: i.manufacturerID.trim(), description: i.libraryDescription.trim(), cryptokiVersion: v(i.cryptokiVersion), libraryVersion: v(i.libraryVersion), tokens, tokenError });
} catch (e) { out({ ok: false, stage: 'info', message: String(e && e.message) }); }
try { mod.C_Finalize(); } catch (e) {}
`;

/** What a child process reported (or did not): the module's facts, or a coded refusal. */
export function interpretProbe(modulePath: string, result: { stdout: string; code: number | null; signal: string | null; timedOut: boolean }): ModuleProbeInfo {
  const refuse = (why: string, details: Record<string, unknown>): KeyriteError =>
    new KeyriteError('SETTINGS_MODULE_NOT_PKCS11', `'${modulePath}' did not load as a PKCS#11 module: ${why}. Choose your HSM vendor's PKCS#11 library (.so); nothing was saved.`, { details: { field: 'modulePath', path: modulePath, ...details } });
  if (result.timedOut) throw refuse('it did not answer C_GetInfo within the time limit', { stage: 'timeout' });
  const line = result.stdout.trim().split('\n').pop() ?? '';
  let reply: ProbeReply | null = null;
  try {
    reply = JSON.parse(line) as ProbeReply;
  } catch {
    reply = null;
  }
  if (!reply) throw refuse(`the test process ended ${result.signal ? `with signal ${result.signal}` : `with exit code ${result.code}`} before answering (the library crashed while loading)`, { stage: 'crash', signal: result.signal, exitCode: result.code });
  if (!reply.ok) {
    if (reply.stage === 'pkcs11js') throw new KeyriteError('INTERNAL_PROBE_UNAVAILABLE', `Keyrite could not start its module test (${reply.message}).`, { details: { stage: reply.stage } });
    const what = reply.stage === 'load' ? 'it has no C_GetFunctionList (or is not a shared library)' : reply.stage === 'initialize' ? 'C_Initialize failed' : 'C_GetInfo failed';
    throw refuse(`${what} (${reply.message.split('\n')[0].slice(0, 200)})`, { stage: reply.stage });
  }
  const tokens = Array.isArray(reply.tokens) ? reply.tokens.filter((t) => t && typeof t.label === 'string').map((t) => ({ label: t.label, serial: String(t.serial ?? ''), model: String(t.model ?? ''), manufacturer: String(t.manufacturer ?? '') })) : [];
  return { manufacturer: reply.manufacturer, description: reply.description, cryptokiVersion: reply.cryptokiVersion, libraryVersion: reply.libraryVersion, tokens, ...(typeof reply.tokenError === 'string' ? { tokenError: reply.tokenError } : {}) };
}

export interface ProbeRunResult {
  stdout: string;
  code: number | null;
  signal: string | null;
  timedOut: boolean;
}

/** Run the probe in a plain Node child (the CLI, tests; not a packaged Electron app, whose RunAsNode fuse is off). */
export function runNodeProbe(modulePath: string, options: { timeoutMs?: number; cwd?: string } = {}): Promise<ProbeRunResult> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['-e', NODE_PROBE_SOURCE, modulePath], {
      cwd: options.cwd ?? process.cwd(),
      env: { ...process.env, ELECTRON_RUN_AS_NODE: '1' },
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    let stdout = '';
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, options.timeoutMs ?? 10_000);
    child.stdout.on('data', (d: Buffer) => {
      if (stdout.length < 64 * 1024) stdout += d.toString('utf8');
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ stdout, code, signal, timedOut });
    });
    child.on('error', () => {
      clearTimeout(timer);
      resolve({ stdout, code: null, signal: null, timedOut });
    });
  });
}

export async function probeModuleInNodeChild(modulePath: string, options: { timeoutMs?: number; cwd?: string } = {}): Promise<ModuleProbeInfo> {
  return interpretProbe(modulePath, await runNodeProbe(modulePath, options));
}
