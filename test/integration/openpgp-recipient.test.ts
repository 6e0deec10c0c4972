import { execFileSync, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assertDistinctRecipients, enrolOpenPgpKey, sealShareToRecipient } from '../../src/core/backup/openpgp-recipient';
import { decodeShare, encodeShare, shareHeader, SHARE_VERSION } from '../../src/core/backup';
import { isKeyriteError } from '../../src/core/errors';

/**
 * Custodians' keys are made by real GnuPG (as a custodian's own machine or card would), and the
 * sealed share is opened by real GnuPG, not by Keyrite.
 */
let home: string;
const gpg = (args: string[], input?: string): string =>
  execFileSync('gpg', ['--homedir', home, '--batch', '--pinentry-mode', 'loopback', '--passphrase', '', ...args], { input, encoding: 'utf8', stdio: ['pipe', 'pipe', 'pipe'] });

function makeKey(uid: string, algo: string, encrypt: string | null, extra: string[] = []): string {
  gpg([...extra, '--quick-gen-key', uid, algo, 'sign,cert', '2y']);
  const fpr = gpg(['--with-colons', '--list-keys', uid]).split('\n').find((l) => l.startsWith('fpr:'))!.split(':')[9];
  if (encrypt) gpg([...extra, '--quick-add-key', fpr, encrypt, 'encr', '2y']);
  return gpg(['--armor', '--export', fpr]);
}

/**
 * A key made "in 2010", in a GnuPG home of its own: with today's keys in the keyring, gpg's
 * trustdb check at a faked time sees keys from the future and may fail the run.
 */
function expiredKey(): string {
  const saved = home;
  home = mkdtempSync(path.join(os.tmpdir(), 'keyrite-gpg-past-'));
  try {
    return makeKey('Eve Expired <eve@example.org>', 'ed25519', 'cv25519', ['--faked-system-time', '20100101T000000']);
  } finally {
    spawnSync('gpgconf', ['--homedir', home, '--kill', 'all']);
    rmSync(home, { recursive: true, force: true });
    home = saved;
  }
}

async function codeOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return 'no error';
  } catch (e) {
    return isKeyriteError(e) ? e.code : `uncoded: ${(e as Error).message}`;
  }
}

beforeAll(() => {
  home = mkdtempSync(path.join(os.tmpdir(), 'keyrite-gpg-'));
});
afterAll(() => {
  spawnSync('gpgconf', ['--homedir', home, '--kill', 'all']);
  rmSync(home, { recursive: true, force: true });
});

describe('a custodian\'s OpenPGP key', () => {
  it('is enrolled with its fingerprint in groups and words, and a share sealed to it opens with plain gpg', async () => {
    const armored = makeKey('Cora Custodian <cora@example.org>', 'ed25519', 'cv25519');
    const r = await enrolOpenPgpKey(armored);
    expect(r.fingerprint).toMatch(/^[0-9A-F]{40}$/);
    expect(r.fingerprintGroups.replace(/ /g, '')).toBe(r.fingerprint);
    expect(r.fingerprintWords).toHaveLength(20);
    expect(r.userIds).toEqual(['Cora Custodian <cora@example.org>']);
    const share = { version: SHARE_VERSION, splitId: '7F3A-91C2', threshold: 3, count: 5, index: 2, share: new Uint8Array(randomBytes(33)) } as const;
    const text = `${shareHeader(share)}\n${encodeShare(share).join(' ')}\n`;
    const sealed = await sealShareToRecipient(text, r);
    expect(sealed.armored).toMatch(/^-----BEGIN PGP MESSAGE-----/);
    for (const w of encodeShare(share).slice(5)) expect(sealed.armored).not.toContain(w);
    const file = path.join(home, 'share.asc');
    writeFileSync(file, sealed.armored);
    const opened = gpg(['--decrypt', file]);
    expect(opened).toBe(text);
    const back = decodeShare(opened);
    expect(back.index).toBe(2);
    expect(Buffer.from(back.share).equals(Buffer.from(share.share))).toBe(true);
  });

  it('an RSA-3072 key from gpg is accepted', async () => {
    const r = await enrolOpenPgpKey(makeKey('Rex Rsa <rex@example.org>', 'rsa3072', 'rsa3072'));
    expect(r.algorithm).toMatch(/rsa.*3072/);
  });

  it.each([
    ['a signing-only key', () => makeKey('Sid Signonly <sid@example.org>', 'ed25519', null), 'OPENPGP_KEY_NO_ENCRYPTION'],
    ['an RSA-1024 key', () => makeKey('Wes Weak <wes@example.org>', 'rsa1024', 'rsa1024'), 'OPENPGP_KEY_WEAK'],
    ['an expired key', () => expiredKey(), 'OPENPGP_KEY_EXPIRED'],
    ['a private key', () => gpg(['--armor', '--export-secret-keys', 'cora@example.org']), 'OPENPGP_KEY_PRIVATE'],
    ['garbage', () => '-----BEGIN PGP PUBLIC KEY BLOCK-----\n\nbm90IGEga2V5\n-----END PGP PUBLIC KEY BLOCK-----\n', 'OPENPGP_KEY_INVALID'],
    ['an empty paste', () => '', 'OPENPGP_KEY_INVALID'],
    ['a huge paste', () => 'A'.repeat(70_000), 'OPENPGP_KEY_INVALID'],
  ])('%s is refused with a coded sentence', async (_name, make, code) => {
    expect(await codeOf(enrolOpenPgpKey(make()))).toBe(code);
  });

  it('the same key for two custodians is refused', async () => {
    const r = await enrolOpenPgpKey(gpg(['--armor', '--export', 'cora@example.org']));
    expect(() => assertDistinctRecipients([{ custodian: 'Cora', fingerprint: r.fingerprint }, { custodian: 'Dan', fingerprint: r.fingerprint }])).toThrow(/Dan presented the same OpenPGP key/);
  });
});
