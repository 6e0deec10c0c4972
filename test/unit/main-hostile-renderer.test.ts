import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { EventEmitter } from 'node:events';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findSoftHsmModule } from '../../src/core/hsm/softhsm';
import { interpretProbe, probeModuleInNodeChild } from '../../src/core/hsm/module-probe';
import { isKnownModulePath, knownModulePaths } from '../../src/core/hsm/module-locations';
import type { CeremonyEngine } from '../../src/main/ipc/engine';
import { buildHandlerTable } from '../../src/main/ipc/handlers';
import { MainServices } from '../../src/main/ipc/services';
import { probeModuleInUtilityProcess, type UtilityProcessApi } from '../../src/main/module-probe-electron';
import { htmlDataUrl, printHtmlFile, type PrintElectron } from '../../src/main/print';
import { isAllowedRequest } from '../../src/main/security';

// A compromised renderer, through the real handler table: it must not be able to make main load
// a file as native code, run a YAML file of its choosing, or write a bundle where it likes.
const home = mkdtempSync(path.join(os.tmpdir(), 'keyrite-hostile-main-'));
const env = { KEYRITE_HOME: home, PATH: process.env.PATH };
const started: Array<{ script: string; outDir: string }> = [];
/** What reached the engine's provide: the input kind and a sealed share's folder. */
const provided: Array<{ kind: string; dir?: string }> = [];
const engine: CeremonyEngine = {
  listScripts: () => [],
  listCeremonies: async () => [],
  describeParameters: (script) => {
    started.push({ script, outDir: '(parameters only)' });
    throw Object.assign(new Error('recorded'), { name: 'Recorded' });
  },
  start: async (req) => {
    started.push({ script: req.script, outDir: req.outDir });
    throw Object.assign(new Error('recorded'), { name: 'Recorded' });
  },
  view: async () => {
    throw new Error('no');
  },
  provide: async (_id, input) => {
    provided.push({ kind: input.kind, ...(input.kind === 'shareSeal' && input.dir !== undefined ? { dir: input.dir } : {}) });
    throw Object.assign(new Error('recorded'), { name: 'Recorded' });
  },
  abort: async () => {
    throw new Error('no');
  },
  shareCard: async () => {
    throw new Error('no');
  },
  close: async () => undefined,
};
let services: MainServices;
let nextPick: string | null = null;
const table = () => buildHandlerTable({ services, appVersion: '1', log: () => undefined, pickFile: async () => nextPick });

beforeAll(() => {
  services = new MainServices(home, env, async () => engine);
});
afterAll(async () => {
  await services.close();
  rmSync(home, { recursive: true, force: true });
});

const savedModule = async () => (await (await services.getStore()).all<{ value: string }>("SELECT value FROM settings WHERE name = 'hsm.modulePath'")).map((r) => r.value);

describe('settings:set — the PKCS#11 module main will load', () => {
  it('knows the SoftHSM module installed here, by real path', () => {
    expect(knownModulePaths()).toContain(findSoftHsmModule());
    expect(isKnownModulePath(findSoftHsmModule())).toBe(true);
    expect(isKnownModulePath('/bin/sh')).toBe(false);
  });

  it.each([
    ['a shell binary', '/bin/sh'],
    ['a copy of a real module in a temp folder', 'copy'],
    ['a text file named .so', 'text'],
  ])('refuses %s typed into the renderer as SETTINGS_MODULE_NOT_ALLOWED; nothing saved', async (_name, which) => {
    let p = which;
    if (which === 'copy') copyFileSync(findSoftHsmModule(), (p = path.join(home, 'libcopy.so')));
    if (which === 'text') writeFileSync((p = path.join(home, 'libtext.so')), 'not a library');
    const r = await table()['settings:set']({ modulePath: p });
    expect(r).toMatchObject({ ok: false, error: { code: 'SETTINGS_MODULE_NOT_ALLOWED' } });
    expect(await savedModule()).toEqual([]);
  });

  it('a file picked in the main-side dialog is test-loaded first: a non-library is SETTINGS_MODULE_NOT_PKCS11 and not saved', async () => {
    const t = table();
    const fake = path.join(home, 'libfake.so');
    writeFileSync(fake, '\x7fELF but not really');
    nextPick = fake;
    expect(await t['settings:pickModule']()).toEqual({ ok: true, value: { path: fake } });
    const r = await t['settings:set']({ modulePath: fake });
    expect(r).toMatchObject({ ok: false, error: { code: 'SETTINGS_MODULE_NOT_PKCS11' } });
    expect(r.ok ? '' : r.error.message).toMatch(/did not load as a PKCS#11 module.*nothing was saved/);
    expect(await savedModule()).toEqual([]);
  }, 30_000);

  it('a real module copied elsewhere and picked in the dialog loads in the child and is saved', async () => {
    const t = table();
    const copy = path.join(home, 'vendor', 'libvendor-pkcs11.so');
    mkdirSync(path.dirname(copy), { recursive: true });
    copyFileSync(findSoftHsmModule(), copy);
    nextPick = copy;
    await t['settings:pickModule']();
    const r = await t['settings:set']({ modulePath: copy });
    expect(r, JSON.stringify(r)).toMatchObject({ ok: true, value: { modulePath: copy } });
    expect(await savedModule()).toEqual([copy]);
    await t['settings:set']({ modulePath: '' });
  }, 30_000);

  it('a dialog the user cancels picks nothing; without a dialog the channel says so', async () => {
    nextPick = null;
    expect(await table()['settings:pickModule']()).toEqual({ ok: true, value: { path: null } });
    const bare = buildHandlerTable({ services, appVersion: '1', log: () => undefined });
    expect(await bare['settings:pickModule']()).toMatchObject({ ok: false, error: { code: 'DIALOG_UNAVAILABLE' } });
  });
});

describe('module probe in a child process', () => {
  it('reads C_GetInfo of the real SoftHSM module', async () => {
    const info = await probeModuleInNodeChild(findSoftHsmModule());
    expect(info.manufacturer).toMatch(/SoftHSM/i);
    expect(info.cryptokiVersion).toMatch(/^\d+\.\d+$/);
  }, 30_000);

  it.each([
    ['a shared library without C_GetFunctionList (libz)', () => '/usr/lib/x86_64-linux-gnu/libz.so.1', /C_GetFunctionList/],
    ['a shell script', () => '/bin/sh', /C_GetFunctionList/],
  ])('refuses %s as SETTINGS_MODULE_NOT_PKCS11', async (_n, file, words) => {
    const e = await probeModuleInNodeChild(file()).catch((x) => x);
    expect(e.code).toBe('SETTINGS_MODULE_NOT_PKCS11');
    expect(e.message).toMatch(words);
  }, 30_000);

  it('a child that dies without answering, or times out, is a crash / timeout refusal, not a hang', () => {
    expect(() => interpretProbe('/x.so', { stdout: '', code: null, signal: 'SIGSEGV', timedOut: false })).toThrow(/crashed while loading/);
    expect(() => interpretProbe('/x.so', { stdout: '', code: null, signal: 'SIGKILL', timedOut: true })).toThrow(/time limit/);
    expect(() => interpretProbe('/x.so', { stdout: '{"ok":false,"stage":"initialize","message":"CKR_GENERAL_ERROR"}\n', code: 0, signal: null, timedOut: false })).toThrow(/C_Initialize failed/);
  });

  it('the Electron side forks a utility process with the module path and reads its one-line answer', async () => {
    const forks: Array<{ entry: string; args: string[] }> = [];
    const up: UtilityProcessApi = {
      fork(entry, args) {
        forks.push({ entry, args });
        const child = new EventEmitter() as EventEmitter & { stdout: EventEmitter; kill: () => boolean };
        child.stdout = new EventEmitter();
        child.kill = () => true;
        setTimeout(() => {
          child.stdout.emit('data', Buffer.from('{"ok":true,"manufacturer":"SoftHSM","description":"d","cryptokiVersion":"2.40","libraryVersion":"2.6"}\n'));
          child.emit('exit', 0);
        }, 5);
        return child as never;
      },
    };
    const info = await probeModuleInUtilityProcess(up, '/usr/lib/softhsm/libsofthsm2.so', { entry: '/app/out/main/module-probe-child.js' });
    // An older reply without a token list still reads; the list is then empty.
    expect(info).toEqual({ manufacturer: 'SoftHSM', description: 'd', cryptokiVersion: '2.40', libraryVersion: '2.6', tokens: [] });
    expect(forks).toEqual([{ entry: '/app/out/main/module-probe-child.js', args: ['/usr/lib/softhsm/libsofthsm2.so'] }]);
  });
});

describe('ceremony:start — which script runs and where the bundle goes', () => {
  it.each([
    ['an absolute path', '/tmp/evil.yaml'],
    ['a relative path', '../../tmp/evil.yaml'],
    ['a name with a dot', 'root-key-generation.yaml'],
    ['upper case and spaces', 'Root Key'],
  ])('refuses %s that was not picked in the dialog (CEREMONY_SCRIPT_NOT_ALLOWED), before the engine is asked', async (_n, script) => {
    started.length = 0;
    const r = await table()['ceremony:start']({ script, demo: true });
    expect(r).toMatchObject({ ok: false, error: { code: 'CEREMONY_SCRIPT_NOT_ALLOWED' } });
    expect(started).toEqual([]);
  });

  it.each([
    ['an absolute path', '/tmp/evil.yaml'],
    ['a relative path', '../../tmp/evil.yaml'],
  ])('ceremony:parameters refuses %s that was not picked (CEREMONY_SCRIPT_NOT_ALLOWED): no YAML on disk is read', async (_n, script) => {
    started.length = 0;
    const r = await table()['ceremony:parameters']({ script, parameters: {} });
    expect(r).toMatchObject({ ok: false, error: { code: 'CEREMONY_SCRIPT_NOT_ALLOWED' } });
    expect(started).toEqual([]);
  });

  it.each([
    ['a parameter name that is not camelCase', { 'Key Type': 'ec-p384' }],
    ['a value longer than 200 characters', { subject: `CN=${'x'.repeat(300)}` }],
    ['a nested object', { subject: { cn: 'x' } }],
  ])('ceremony:parameters refuses %s (IPC_INPUT_INVALID) before the engine is asked', async (_n, parameters) => {
    started.length = 0;
    const r = await table()['ceremony:parameters']({ script: 'root-key-generation', parameters });
    expect(r).toMatchObject({ ok: false, error: { code: 'IPC_INPUT_INVALID' } });
    expect(started).toEqual([]);
  });

  it('runs a script file once the administrator picked it in the main-side dialog', async () => {
    started.length = 0;
    const t = table();
    const file = path.join(home, 'site-ceremony.yaml');
    writeFileSync(file, 'id: x\n');
    nextPick = file;
    await t['ceremony:pickScript']();
    await t['ceremony:start']({ script: file, demo: true });
    expect(started).toHaveLength(1);
    expect(started[0].script).toBe(file);
    expect(started[0].outDir.startsWith(path.join(home, 'bundles', 'site-ceremony-'))).toBe(true);
  });

  it.each([
    ['a relative name climbing out of the output folder', '../../../etc/cron.d/x', 'CEREMONY_OUT_OUTSIDE'],
    ['a system folder', '/etc/keyrite-bundle', 'CEREMONY_OUT_SYSTEM_FOLDER'],
    ['/proc', '/proc/keyrite-out', 'CEREMONY_OUT_SYSTEM_FOLDER'],
    ["Keyrite's own data folder", path.join(home, 'softhsm', 'x'), 'CEREMONY_OUT_SYSTEM_FOLDER'],
    ['the root folder', '/', 'CEREMONY_OUT_SYSTEM_FOLDER'],
    ['a file', '/dev/null', 'CEREMONY_OUT_SYSTEM_FOLDER'],
  ])('refuses a bundle folder that is %s (%s)', async (_n, outDir, code) => {
    started.length = 0;
    const r = await table()['ceremony:start']({ script: 'root-key-generation', outDir, demo: true });
    expect(r).toMatchObject({ ok: false, error: { code } });
    expect(started).toEqual([]);
  });

  it('a plain name goes inside the output folder; the default is the script id and a timestamp there', async () => {
    started.length = 0;
    const t = table();
    await t['ceremony:start']({ script: 'root-key-generation', outDir: 'root-2026', demo: true });
    await t['ceremony:start']({ script: 'root-key-generation', demo: true });
    expect(started[0].outDir).toBe(path.join(home, 'bundles', 'root-2026'));
    expect(started[1].outDir.startsWith(path.join(home, 'bundles', 'root-key-generation-'))).toBe(true);
  });
});

describe('printing transcript.html and dev-only requests', () => {
  it('prints transcript.html from memory (a data: URL), never over file://; a FIFO in its place is refused without blocking', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'keyrite-print-'));
    const html = '<!doctype html><title>Transcript</title><p>final hash</p>';
    writeFileSync(path.join(dir, 'transcript.html'), html);
    const loaded: string[] = [];
    const electron = {
      BrowserWindow: class {
        webContents = { print: (_o: unknown, cb: (ok: boolean, r: string) => void) => cb(true, '') };
        loadURL(url: string) {
          loaded.push(url);
          return Promise.resolve();
        }
        destroy() {}
      },
      session: { fromPartition: () => ({ webRequest: { onBeforeRequest: () => undefined }, setPermissionRequestHandler: () => undefined }) },
    } as unknown as PrintElectron;
    await printHtmlFile(path.join(dir, 'transcript.html'), electron);
    expect(loaded).toEqual([htmlDataUrl(html)]);
    const fifo = path.join(dir, 'fifo.html');
    execFileSync('mkfifo', [fifo]);
    await expect(printHtmlFile(fifo, electron)).rejects.toMatchObject({ code: 'BUNDLE_HTML_NOT_A_FILE' });
    rmSync(dir, { recursive: true, force: true });
  });

  it('devtools:// and chrome-extension:// requests pass only in development', () => {
    for (const url of ['devtools://devtools/bundled/inspector.html', 'chrome-extension://abc/x.js']) {
      expect(isAllowedRequest(url, { dev: false })).toBe(false);
      expect(isAllowedRequest(url, { dev: true })).toBe(true);
    }
  });
});

describe('ceremony:provide shareSeal — where a sealed share may be written (key and share files: main-openpgp-channels.test.ts)', () => {
  const media = mkdtempSync(path.join(os.tmpdir(), 'keyrite-hostile-media-'));
  afterAll(() => rmSync(media, { recursive: true, force: true }));
  const seal = (dir?: string) => ({ id: 'c1', input: dir === undefined ? { kind: 'shareSeal' } : { kind: 'shareSeal', dir } });

  it.each([
    ['an autostart folder', path.join(os.homedir(), '.config', 'autostart')],
    ['a relative path', '../../tmp'],
    ['the bundle-free default, spelled out by the renderer', path.join(media, 'x-sealed-shares')],
  ])('refuses to seal into %s nobody picked (SHARE_SEAL_DIR), before the engine is asked', async (_n, dir) => {
    provided.length = 0;
    const r = await table()['ceremony:provide'](seal(dir));
    expect(r).toMatchObject({ ok: false, error: { code: 'SHARE_SEAL_DIR' } });
    expect(provided).toEqual([]);
  });

  it('passes the default folder (no dir) and a folder picked in the dialog to the core; a cancelled pick adds none', async () => {
    const t = table();
    provided.length = 0;
    await t['ceremony:provide'](seal());
    nextPick = null;
    expect(await t['share:pickSealDir']()).toEqual({ ok: true, value: { path: null } });
    nextPick = media;
    expect(await t['share:pickSealDir']()).toEqual({ ok: true, value: { path: media } });
    await t['ceremony:provide'](seal(media));
    // Picked by this table only: a fresh one (a restarted main) has not seen the pick.
    const r = await table()['ceremony:provide'](seal(media));
    expect(r).toMatchObject({ ok: false, error: { code: 'SHARE_SEAL_DIR' } });
    expect(provided).toEqual([{ kind: 'shareSeal' }, { kind: 'shareSeal', dir: media }]);
  });
});
