import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { KeyriteError } from '../../src/core/errors';
import { findSoftHsmModule } from '../../src/core/hsm/softhsm';
import { buildApi } from '../../src/shared/api';
import { CHANNELS, WITNESS_CHANNELS, type Channel } from '../../src/shared/ipc-contract';
import { buildHandlerTable, toIpcError, type HandlerTable } from '../../src/main/ipc/handlers';
import { checkSender, registerIpc, type SenderPolicy } from '../../src/main/ipc/register';
import { MainServices } from '../../src/main/ipc/services';
import { toWitnessView } from '../../src/main/ipc/witness';
import type { CeremonyEngine } from '../../src/main/ipc/engine';
import type { CeremonyView } from '../../src/core/ceremony/types';

const home = mkdtempSync(path.join(os.tmpdir(), 'keyrite-ipc-'));
const env = { KEYRITE_HOME: home, PATH: process.env.PATH };
let services: MainServices;
let table: HandlerTable;
const logged: unknown[] = [];

/** An engine that fails the way the test says: the table's error handling is what is under test. */
const failing = (err: unknown | (() => unknown)): CeremonyEngine => {
  const e = () => (typeof err === 'function' ? (err as () => unknown)() : err);
  return {
  listScripts: () => {
    throw e();
  },
  listCeremonies: async () => {
    throw e();
  },
  describeParameters: () => {
    throw e();
  },
  start: async () => {
    throw e();
  },
  view: async () => {
    throw e();
  },
  provide: async () => {
    throw e();
  },
  abort: async () => {
    throw e();
  },
  shareCard: async () => {
    throw e();
  },
  close: async () => undefined,
  };
};

let engineError: unknown = new Error('boom at /work/main/src/core/secret.ts:12');

beforeAll(() => {
  services = new MainServices(home, env, async () => failing(() => engineError));
  table = buildHandlerTable({ services, appVersion: '9.9.9', log: (m, e) => logged.push([m, e]) });
});
afterAll(async () => {
  await services.close();
  rmSync(home, { recursive: true, force: true });
});

describe('handler table', () => {
  it('has exactly one handler per contract channel', () => {
    expect(Object.keys(table).sort()).toEqual([...CHANNELS].sort());
  });

  it.each<[Channel, unknown, string]>([
    ['ceremony:view', { id: 42 }, 'id'],
    ['ceremony:view', {}, 'id'],
    ['ceremony:view', { id: 'x', extra: 1 }, ''],
    ['ceremony:provide', { id: 'c1', input: { kind: 'pin' } }, 'input.pin'],
    ['ceremony:provide', { id: 'c1', input: { kind: 'launch-missiles' } }, 'input.kind'],
    ['ceremony:provide', { id: 'c1', input: { kind: 'participants', participants: [{ id: 'Bad Id', name: 'x', roles: ['admin'] }] } }, 'input.participants.0.id'],
    ['ceremony:abort', { id: 'c1', reason: '   ', personId: 'ada' }, 'reason'],
    ['settings:set', { modulePath: 7 }, 'modulePath'],
    ['settings:set', { unknownSetting: 'x' }, ''],
    ['bundle:verify', { dir: '' }, 'dir'],
    ['share:printCard', {}, 'id'],
    ['share:printCard', { id: 7 }, 'id'],
    ['share:printCard', { id: '' }, 'id'],
    ['share:printCard', { id: 'c1', html: '<p>x</p>' }, ''],
    ['share:printCard', undefined, ''],
    ['app:info', 'not an object', ''],
  ])('%s with %j is refused as IPC_INPUT_INVALID naming "%s"', async (channel, input, where) => {
    const r = await table[channel](input);
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.error.code).toBe('IPC_INPUT_INVALID');
    if (where) expect(r.error.message.startsWith(`${where}: `)).toBe(true);
    expect(r.error.details).toMatchObject({ channel });
  });

  it('a KeyriteError keeps its code, sentence and details', async () => {
    engineError = new KeyriteError('CEREMONY_NOT_FOUND', 'There is no ceremony c1. Choose one from the list.', { details: { id: 'c1', buf: new Uint8Array([1, 2]) } });
    const r = await table['ceremony:view']({ id: 'c1' });
    expect(r).toEqual({ ok: false, error: { code: 'CEREMONY_NOT_FOUND', message: 'There is no ceremony c1. Choose one from the list.', details: { id: 'c1' } } });
  });

  it('any other error becomes INTERNAL_ERROR with a reference; the detail goes only to the log', async () => {
    engineError = new Error('boom at /work/main/src/core/secret.ts:12');
    logged.length = 0;
    const r = await table['ceremony:list']();
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.error.code).toBe('INTERNAL_ERROR');
    expect(r.error.message).toMatch(/reference [0-9a-f]{8}/);
    expect(JSON.stringify(r)).not.toContain('boom');
    expect(JSON.stringify(r)).not.toContain('secret.ts');
    expect(r.error).not.toHaveProperty('stack');
    expect(logged).toHaveLength(1);
    expect(String((logged[0] as [string])[0])).toContain(/reference ([0-9a-f]{8})/.exec(r.error.message)![1]);
  });

  it('an output that does not fit the contract is an INTERNAL_ERROR, never passed through', async () => {
    const svc = new MainServices(home, env, async () => ({ ...failing(null), listScripts: () => [{ id: 1 }] as never }));
    const t = buildHandlerTable({ services: svc, appVersion: '1', log: () => undefined });
    const r = await t['ceremony:scripts']();
    expect(r.ok ? 'ok' : r.error.code).toBe('INTERNAL_ERROR');
    await svc.close();
  });

  it('app:info reports version, home and the demo token', async () => {
    const r = await table['app:info']();
    expect(r).toMatchObject({ ok: true, value: { version: '9.9.9', home, hsm: { tokenLabel: 'keyrite-demo', demo: true }, hsmProblem: null, witnessAvailable: false } });
  });

  it('app:openWitness without a witness window says so', async () => {
    expect(await table['app:openWitness']()).toMatchObject({ ok: false, error: { code: 'WITNESS_UNAVAILABLE' } });
  });

  it.each([
    [{ modulePath: 'lib/relative.so' }, 'SETTINGS_PATH_RELATIVE', 'is not an absolute path'],
    [{ modulePath: '/nonexistent/pkcs11.so' }, 'SETTINGS_MODULE_MISSING', "There is no file at '/nonexistent/pkcs11.so'"],
    [{ modulePath: os.tmpdir() }, 'SETTINGS_MODULE_NOT_FILE', 'is a folder'],
    [{ outputFolder: 'media/usb' }, 'SETTINGS_PATH_RELATIVE', 'is not an absolute path'],
    [{ outputFolder: '/etc/hostname' }, 'SETTINGS_OUTPUT_NOT_FOLDER', 'is a file, not a folder'],
    [{ tokenLabel: 'root\u001b[2J' }, 'SETTINGS_TEXT_INVALID', "The setting 'tokenLabel' contains an escape character"],
    [{ outputFolder: '/media/usb\u202e' }, 'SETTINGS_TEXT_INVALID', 'contains a bidirectional text control'],
    [{ tokenUri: 'pkcs11:token=a;pin-value=1234' }, 'SETTINGS_TOKEN_URI_INVALID', 'carries a PIN'],
    [{ tokenUri: 'token=a' }, 'SETTINGS_TOKEN_URI_INVALID', 'does not start with "pkcs11:"'],
    [{ moduleArgs: "configdir='sql:/x'\nflags=" }, 'SETTINGS_MODULE_ARGS_INVALID', 'must be one line'],
  ])('settings:set %j is refused with %s', async (patch, code, text) => {
    const r = await table['settings:set'](patch);
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.error.code).toBe(code);
    expect(r.error.message).toContain(text);
  });

  it('settings are saved in the store, applied to the HSM configuration, and cleared with empty strings', async () => {
    // A module is accepted only from a known location (or a main-side dialog) and after a test load.
    const lib = findSoftHsmModule();
    const out = path.join(home, 'media');
    const r = await table['settings:set']({ modulePath: lib, tokenLabel: 'vendor-token', outputFolder: out });
    expect(r).toMatchObject({ ok: true, value: { modulePath: lib, tokenLabel: 'vendor-token', outputFolder: out, effective: { modulePath: lib, tokenLabel: 'vendor-token', demo: false, outputFolder: out } } });
    const store = await services.getStore();
    expect(await store.all('SELECT name, value FROM settings ORDER BY name')).toEqual([
      { name: 'hsm.modulePath', value: lib },
      { name: 'hsm.tokenLabel', value: 'vendor-token' },
      { name: 'output.folder', value: out },
    ]);
    const cleared = await table['settings:set']({ modulePath: '', tokenLabel: '', outputFolder: '' });
    expect(cleared).toMatchObject({ ok: true, value: { modulePath: null, tokenLabel: null, outputFolder: null, effective: { demo: true, outputFolder: path.join(home, 'bundles') } } });
  });

  it('a token URI and module arguments are saved and applied: the URI names module and serial', async () => {
    const lib = path.join(home, 'libsoftokn3.so');
    writeFileSync(lib, 'not really a library');
    const uri = `pkcs11:token=nss-a;serial=0000000000000000?module-path=${lib}`;
    const r = await table['settings:set']({ tokenUri: uri, moduleArgs: "configdir='sql:/srv/nssdb' flags=" });
    expect(r).toMatchObject({ ok: true, value: { tokenUri: uri, moduleArgs: "configdir='sql:/srv/nssdb' flags=", effective: { modulePath: lib, tokenLabel: 'nss-a', demo: false } } });
    expect(await services.hsmConfig()).toEqual({ modulePath: lib, tokenLabel: 'nss-a', token: { serial: '0000000000000000' }, initArgs: "configdir='sql:/srv/nssdb' flags=", demo: false });
    const cleared = await table['settings:set']({ tokenUri: '', moduleArgs: '' });
    expect(cleared).toMatchObject({ ok: true, value: { tokenUri: null, moduleArgs: null } });
  });

  it('environment variables that override the settings are named', async () => {
    const svc = new MainServices(home, { ...env, KEYRITE_TOKEN_LABEL: 'from-env' }, async () => failing(null));
    const t = buildHandlerTable({ services: svc, appVersion: '1' });
    const r = await t['settings:get']();
    expect(r).toMatchObject({ ok: true, value: { overriddenBy: ['KEYRITE_TOKEN_LABEL'] } });
    await svc.close();
  });

  it('bundle:print: a folder without transcript.html is BUNDLE_FILE_MISSING; without a printer, PRINT_UNAVAILABLE', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'keyrite-print-'));
    expect(await table['bundle:print']({ dir })).toMatchObject({ ok: false, error: { code: 'BUNDLE_FILE_MISSING' } });
    writeFileSync(path.join(dir, 'transcript.html'), '<!doctype html>');
    const r = await table['bundle:print']({ dir });
    expect(r).toMatchObject({ ok: false, error: { code: 'PRINT_UNAVAILABLE' } });
    const printed: string[] = [];
    const t = buildHandlerTable({ services, appVersion: '1', printFile: async (f) => void printed.push(f) });
    expect(await t['bundle:print']({ dir })).toEqual({ ok: true, value: { file: path.join(dir, 'transcript.html') } });
    expect(printed).toEqual([path.join(dir, 'transcript.html')]);
  });

  it('share:printBlankCard: without a printer PRINT_UNAVAILABLE (naming the CLI); with one, a card of 33 empty numbered boxes; any input but none refused', async () => {
    expect(await table['share:printBlankCard']({})).toMatchObject({ ok: false, error: { code: 'PRINT_UNAVAILABLE', message: expect.stringContaining('keyrite share blank-card') } });
    const printed: string[] = [];
    const t = buildHandlerTable({ services, appVersion: '1', printHtml: async (html) => void printed.push(html), log: () => undefined });
    expect(await t['share:printBlankCard'](undefined)).toEqual({ ok: true, value: { boxes: 33 } });
    expect(printed).toHaveLength(1);
    expect(printed[0].match(/<li\b/g)).toHaveLength(33);
    expect(await t['share:printBlankCard']({ splitId: 'x' })).toMatchObject({ ok: false, error: { code: 'IPC_INPUT_INVALID' } });
    expect(printed).toHaveLength(1);
  });

  describe('share:printCard', () => {
    const card = { html: '<!doctype html><p>abandon ability able about above</p>', index: 2, custodian: 'Carl' };
    const cardEngine = (shareCard: CeremonyEngine['shareCard']): CeremonyEngine => ({ ...failing(null), shareCard });

    it('without a printer: PRINT_UNAVAILABLE, and no card is made (nothing recorded)', async () => {
      const made = vi.fn(async () => card);
      const svc = new MainServices(home, env, async () => cardEngine(made));
      const t = buildHandlerTable({ services: svc, appVersion: '1', log: () => undefined });
      const r = await t['share:printCard']({ id: 'c1' });
      expect(r).toMatchObject({ ok: false, error: { code: 'PRINT_UNAVAILABLE' } });
      expect(made).not.toHaveBeenCalled();
      await svc.close();
    });

    it('prints the card from memory; only its index and custodian come back, never the html', async () => {
      const ids: string[] = [];
      const printed: string[] = [];
      const svc = new MainServices(home, env, async () => cardEngine(async (id) => (ids.push(id), card)));
      const t = buildHandlerTable({ services: svc, appVersion: '1', printHtml: async (html) => void printed.push(html), log: () => undefined });
      const r = await t['share:printCard']({ id: 'c1' });
      expect(r).toEqual({ ok: true, value: { index: 2, custodian: 'Carl' } });
      expect(ids).toEqual(['c1']);
      expect(printed).toEqual([card.html]);
      await svc.close();
    });

    it('an engine refusal keeps its code (SHARE_CARD_UNAVAILABLE) and nothing is printed', async () => {
      const printed: string[] = [];
      const refusal = new KeyriteError('SHARE_CARD_UNAVAILABLE', 'A share card can be printed only while the share is shown on screen.');
      const svc = new MainServices(home, env, async () => cardEngine(async () => { throw refusal; }));
      const t = buildHandlerTable({ services: svc, appVersion: '1', printHtml: async (html) => void printed.push(html), log: () => undefined });
      expect(await t['share:printCard']({ id: 'c1' })).toMatchObject({ ok: false, error: { code: 'SHARE_CARD_UNAVAILABLE', message: expect.stringContaining('only while the share is shown') } });
      expect(printed).toEqual([]);
      await svc.close();
    });

    it('a printer failure is PRINT_FAILED; the error and the log carry nothing of the page', async () => {
      const logs: unknown[] = [];
      const svc = new MainServices(home, env, async () => cardEngine(async () => card));
      const t = buildHandlerTable({
        services: svc, appVersion: '1', log: (m, e) => logs.push([m, e]),
        printHtml: async (html) => {
          throw new Error(`could not load ${html}`);
        },
      });
      const r = await t['share:printCard']({ id: 'c1' });
      expect(r).toMatchObject({ ok: false, error: { code: 'PRINT_FAILED', message: expect.stringContaining('Share card 2 (Carl) did not reach the printer') } });
      expect(JSON.stringify(r)).not.toContain('abandon');
      expect(JSON.stringify(logs)).not.toContain('abandon');
      await svc.close();
    });
  });

  it('toIpcError drops details that cannot be cloned rather than failing', () => {
    const circular: Record<string, unknown> = {};
    circular.self = circular;
    expect(toIpcError(new KeyriteError('STORE_ERROR', 'Sentence.', { details: circular }), () => undefined)).toEqual({ code: 'STORE_ERROR', message: 'Sentence.' });
  });
});

describe('sender check', () => {
  const policy: SenderPolicy = { isKnownContents: (id) => id === 1 || id === 2, isWitnessContents: (id) => id === 2 };
  const event = (url: string, opts: { id?: number; parent?: unknown } = {}) => ({ senderFrame: { url, parent: opts.parent ?? null }, sender: { id: opts.id ?? 1 } }) as never;

  it.each([
    ['https://evil.example/', 'not the Keyrite app (https://evil.example)'],
    ['file:///home/u/index.html', 'not the Keyrite app (file://)'],
    ['app://other/index.html', 'not the Keyrite app (app://other)'],
    ['http://127.0.0.1:5173/', 'not the Keyrite app (http://127.0.0.1:5173)'],
  ])('a frame at %s is refused', (url, why) => {
    expect(checkSender(event(url), 'app:info', policy)).toContain(why);
  });

  it('a sub-frame of the app, an unknown window and a vanished frame are refused', () => {
    expect(checkSender(event('app://keyrite/index.html', { parent: {} }), 'app:info', policy)).toContain('sub-frame');
    expect(checkSender(event('app://keyrite/index.html', { id: 99 }), 'app:info', policy)).toContain('not a Keyrite window');
    expect(checkSender({ senderFrame: null, sender: { id: 1 } } as never, 'app:info', policy)).toContain('gone');
  });

  it('the witness window may use the witness channels only', () => {
    for (const c of CHANNELS) {
      const r = checkSender(event('app://keyrite/index.html#witness', { id: 2 }), c, policy);
      expect(r === null).toBe(WITNESS_CHANNELS.includes(c));
    }
  });

  it('registerIpc registers every channel; a foreign frame gets IPC_SENDER_REJECTED and never reaches the handler', async () => {
    const handlers = new Map<string, (e: unknown, input: unknown) => Promise<unknown>>();
    const ipcMain = { handle: (c: string, fn: (e: unknown, input: unknown) => Promise<unknown>) => handlers.set(c, fn) };
    const spy = vi.fn(async () => ({ ok: true, value: 'served' }));
    const fake = Object.fromEntries(CHANNELS.map((c) => [c, spy])) as unknown as HandlerTable;
    const warn = vi.fn();
    registerIpc(ipcMain as never, fake, policy, warn);
    expect([...handlers.keys()].sort()).toEqual([...CHANNELS].sort());
    const refused = await handlers.get('ceremony:provide')!(event('https://evil.example/'), { id: 'c', input: { kind: 'pin', pin: '1234' } });
    expect(refused).toMatchObject({ ok: false, error: { code: 'IPC_SENDER_REJECTED' } });
    expect(spy).not.toHaveBeenCalled();
    expect(JSON.stringify(warn.mock.calls)).not.toContain('1234');
    const served = await handlers.get('app:info')!(event('app://keyrite/index.html'), undefined);
    expect(served).toEqual({ ok: true, value: 'served' });
  });
});

describe('preload API shape', () => {
  it('buildApi makes keyrite.<domain>.<verb> for every channel, frozen, forwarding channel and input', async () => {
    const invoke = vi.fn(async (c: string, i: unknown) => ({ c, i }));
    const api = buildApi(CHANNELS, invoke);
    for (const c of CHANNELS) {
      const [d, v] = c.split(':');
      expect(typeof api[d][v]).toBe('function');
    }
    expect(await api.ceremony.view({ id: 'x' })).toEqual({ c: 'ceremony:view', i: { id: 'x' } });
    expect(Object.isFrozen(api)).toBe(true);
    expect(Object.isFrozen(api.ceremony)).toBe(true);
    expect(Object.keys(api).sort()).toEqual([...new Set(CHANNELS.map((c) => c.split(':')[0]))].sort());
  });
});

describe('witness view', () => {
  it('carries no share, no PIN prompt detail, nothing it does not name', () => {
    const view: CeremonyView = {
      ceremonyId: 'c1', scriptId: 's', title: 'Root', status: 'running', demo: true, outDir: '/o',
      participants: [{ id: 'cora', name: 'Cora', roles: ['custodian'] }],
      steps: [{ index: 0, id: 'h', title: 'Hand out', action: 'handOutShares', status: 'running' }],
      current: {
        index: 0, id: 'h', title: 'Hand out', say: 'Look away.', action: 'handOutShares', confirm: { witness: 1 },
        need: { kind: 'shareHandout', custodian: { id: 'cora', name: 'Cora', roles: ['custodian'] }, shareIndex: 1, of: 5, phase: 'reveal', header: 'share 1 of 5' },
        evidence: { backup: 'b.json', key: { spkiFingerprint: 'ab:cd' } },
      },
      revealedShare: { custodian: 'Cora', header: 'share 1 of 5', words: ['abandon', 'ability', 'able'] },
      chainHead: { seq: 3, hash: 'f'.repeat(64) },
      lastError: { code: 'SHARE_CHECKSUM', message: 'Word 2', details: { typed: 'ability' } },
    };
    const w = toWitnessView(view);
    const text = JSON.stringify(w);
    expect(text).not.toContain('abandon');
    expect(text).not.toContain('ability');
    expect(text).not.toContain('share 1 of 5');
    expect(w.current).toMatchObject({ needKind: 'shareHandout', say: 'Look away.' });
    expect(w.fingerprints).toEqual([{ label: 'key.spkiFingerprint', value: 'ab:cd', words: [] }]);
    // Who is up, by name only: the room knows who may look, never what they see.
    expect(w.current?.custodian).toEqual({ name: 'Cora', shareIndex: 1, of: 5, phase: 'reveal', sealed: false });
  });

  const cora = { id: 'cora', name: 'Cora', roles: ['custodian'] };
  const fpr = '1E4350AB6C0D3F953139A26CE75660C5C863564D';
  const base = (need: NonNullable<CeremonyView['current']>['need'], action: 'checkIn' | 'handOutShares'): CeremonyView => ({
    ceremonyId: 'c1', scriptId: 's', title: 'Root', status: 'running', demo: true, outDir: '/o', participants: [cora],
    steps: [{ index: 0, id: 's', title: 'Step', action, status: 'running' }],
    current: { index: 0, id: 's', title: 'Step', say: 'Say.', action, confirm: {}, need, evidence: null },
    chainHead: { seq: 3, hash: 'f'.repeat(64) }, lastError: null,
  });

  it('shows the fingerprint words a custodian reads aloud while confirming their OpenPGP key', () => {
    const words = ['adroitness', 'adviser', 'aftermath', 'aggregate'];
    const w = toWitnessView(base({
      kind: 'openpgpConfirm', custodian: cora, fingerprint: fpr, fingerprintGroups: fpr.match(/.{4}/g)!.join(' '), fingerprintWords: words,
      userIds: ['Cora <cora@example.test>'], algorithm: 'ecdh curve25519', expires: null, tailLength: 8, remaining: 2,
    }, 'checkIn'));
    expect(w.current?.needKind).toBe('openpgpConfirm');
    expect(w.fingerprints).toEqual([{ label: 'OpenPGP key of Cora', value: fpr, words }]);
    // Named fields only: the user id (an e-mail address) and the expected tail stay off the projector.
    expect(JSON.stringify(w)).not.toContain('cora@example.test');
  });

  it('a sealed hand-out names the recipient key (as words) and says the share is sealed; the file path is not shown', () => {
    const w = toWitnessView(base({
      kind: 'shareHandout', custodian: cora, shareIndex: 2, of: 5, phase: 'confirm', confirmPositions: [6, 9],
      sealed: { recipientFingerprint: fpr, fingerprintGroups: '', defaultDir: '/o/sealed-shares', file: { name: 'cora-7F3A.asc', path: '/media/usb/cora-7F3A.asc', dir: '/media/usb', sha256: 'a'.repeat(64) } },
    }, 'handOutShares'));
    expect(w.current?.custodian).toEqual({ name: 'Cora', shareIndex: 2, of: 5, phase: 'confirm', sealed: true });
    expect(w.fingerprints).toHaveLength(1);
    expect(w.fingerprints[0]).toMatchObject({ label: 'Share 2 sealed to the OpenPGP key of Cora', value: fpr });
    expect(w.fingerprints[0].words).toHaveLength(20);
    expect(JSON.stringify(w)).not.toContain('/media/usb');
  });
});
