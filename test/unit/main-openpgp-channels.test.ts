import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CeremonyView, StepInput } from '../../src/core/ceremony/types';
import type { CeremonyEngine } from '../../src/main/ipc/engine';
import { buildHandlerTable, type PickKind } from '../../src/main/ipc/handlers';
import { MainServices } from '../../src/main/ipc/services';

/**
 * The OpenPGP channels through the real handler table: a key file is read by main (a private key
 * never crosses to the renderer), a decrypted share file goes straight from main to the engine
 * (its text never crosses either), and only the main-side dialog names the files.
 */
const home = mkdtempSync(path.join(os.tmpdir(), 'keyrite-openpgp-main-'));
const view: CeremonyView = {
  ceremonyId: 'c1', scriptId: 's', title: 'T', status: 'running', demo: true, outDir: home, participants: [], steps: [], current: null,
  chainHead: { seq: 1, hash: '0'.repeat(64) }, lastError: null,
};
const provided: StepInput[] = [];
const engine: CeremonyEngine = {
  listScripts: () => [],
  listCeremonies: async () => [],
  describeParameters: () => {
    throw new Error('not used by these channels');
  },
  start: async () => view,
  view: async () => view,
  provide: async (_id, input) => {
    provided.push(input);
    return view;
  },
  abort: async () => view,
  shareCard: async () => {
    throw new Error('no');
  },
  close: async () => undefined,
};
let services: MainServices;
const picks: PickKind[] = [];
let nextPick: string | null = null;
const table = (withDialog = true) =>
  buildHandlerTable({ services, appVersion: '1', log: () => undefined, ...(withDialog ? { pickFile: async (k: PickKind) => (picks.push(k), nextPick) } : {}) });
const file = (name: string, text: string): string => {
  const f = path.join(home, name);
  writeFileSync(f, text);
  return f;
};

beforeAll(() => {
  services = new MainServices(home, { KEYRITE_HOME: home, PATH: process.env.PATH }, async () => engine);
});
afterAll(async () => {
  await services.close();
  rmSync(home, { recursive: true, force: true });
});

describe('openpgp:readKeyFile', () => {
  it('returns the picked public key text; cancelled is null', async () => {
    nextPick = file('cora.asc', '-----BEGIN PGP PUBLIC KEY BLOCK-----\n\nxx\n-----END PGP PUBLIC KEY BLOCK-----\n');
    expect(await table()['openpgp:readKeyFile']()).toEqual({ ok: true, value: { path: nextPick, armored: '-----BEGIN PGP PUBLIC KEY BLOCK-----\n\nxx\n-----END PGP PUBLIC KEY BLOCK-----\n' } });
    expect(picks.at(-1)).toBe('openpgpKey');
    nextPick = null;
    expect(await table()['openpgp:readKeyFile']()).toEqual({ ok: true, value: { path: null, armored: null } });
  });

  it('refuses a private key without returning it, and a file too large to be a key', async () => {
    nextPick = file('secret.asc', '-----BEGIN PGP PRIVATE KEY BLOCK-----\n\nsecretbytes\n-----END PGP PRIVATE KEY BLOCK-----\n');
    const r = await table()['openpgp:readKeyFile']();
    expect(r).toMatchObject({ ok: false, error: { code: 'OPENPGP_KEY_PRIVATE' } });
    expect(JSON.stringify(r)).not.toContain('secretbytes');
    nextPick = file('huge.asc', 'A'.repeat(70_000));
    expect(await table()['openpgp:readKeyFile']()).toMatchObject({ ok: false, error: { code: 'OPENPGP_KEY_INVALID' } });
  });

  it('without a dialog it says so', async () => {
    expect(await table(false)['openpgp:readKeyFile']()).toMatchObject({ ok: false, error: { code: 'DIALOG_UNAVAILABLE' } });
  });
});

describe('ceremony:provideShareFile and share:pickSealDir', () => {
  it('gives the decrypted file\'s text to the engine as a share; the renderer gets only the view', async () => {
    const text = 'share 1 of 2 · needs 2 · split 7F3A-91C2\nabandon ability able about\n';
    nextPick = file('share.txt', text);
    const r = await table()['ceremony:provideShareFile']({ id: 'c1' });
    expect(r).toMatchObject({ ok: true, value: { picked: true, view: { ceremonyId: 'c1' } } });
    expect(JSON.stringify(r)).not.toContain('abandon');
    expect(provided.at(-1)).toEqual({ kind: 'share', text });
    expect(picks.at(-1)).toBe('shareFile');
  });

  it('cancelled: nothing provided; a file too large to be a share is SHARE_FILE_UNREADABLE', async () => {
    const before = provided.length;
    nextPick = null;
    expect(await table()['ceremony:provideShareFile']({ id: 'c1' })).toMatchObject({ ok: true, value: { picked: false } });
    nextPick = file('big.txt', 'x'.repeat(9000));
    expect(await table()['ceremony:provideShareFile']({ id: 'c1' })).toMatchObject({ ok: false, error: { code: 'SHARE_FILE_UNREADABLE' } });
    expect(provided.length).toBe(before);
  });

  it('the seal folder comes from the directory dialog', async () => {
    nextPick = home;
    expect(await table()['share:pickSealDir']()).toEqual({ ok: true, value: { path: home } });
    expect(picks.at(-1)).toBe('sealDir');
  });
});
