import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { writeBackupFile, type BackupFile } from '../../src/core/backup/backup-file';
import { issueShares, type IssuedShare } from '../../src/core/backup/issue-shares';
import { WORDS } from '../../src/core/backup/wordlist';
import { spkiFingerprint } from '../../src/core/hsm/public-key';
import { runKeyrite } from '../helpers/cli';

const root = path.join(__dirname, '../..');
const run = (args: string[], input: string) => runKeyrite(['share', 'check', ...args], { input, env: { KEYRITE_HOME: mkdtempSync(path.join(os.tmpdir(), 'keyrite-home-')) } });

let file: string;
let issued: IssuedShare[];
let foreign: IssuedShare[];

async function backupWithShares(outDir: string): Promise<{ file: string; issued: IssuedShare[] }> {
  const { issued: shares, split } = await issueShares(randomBytes(32), randomBytes(4), { threshold: 2, count: 3, custodians: ['Ana', 'Ben', 'Cy'] });
  const spki = generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({ type: 'spki', format: 'der' });
  const backup: BackupFile = {
    formatVersion: 1, keyId: 'cli-key', keyLabel: 'cli key', ckaId: '', keyType: 'ec-p256', keyUsage: ['sign'], spkiDer: spki.toString('base64'),
    spkiSha256: spkiFingerprint(spki), wrapMechanism: 'CKM_AES_KEY_WRAP_PAD', wrapTrust: 'untrusted', wrappedKey: randomBytes(48).toString('base64'),
    kek: { algorithm: 'AES-256', kcv: '0123456789abcdef', kcvMethod: 'aes-cmac' }, split, ceremonyId: 'cli', createdAt: new Date().toISOString(),
  };
  return { file: writeBackupFile(outDir, backup), issued: shares };
}

beforeAll(async () => {
  ({ file, issued } = await backupWithShares(mkdtempSync(path.join(os.tmpdir(), 'keyrite-cli-'))));
  ({ issued: foreign } = await backupWithShares(mkdtempSync(path.join(os.tmpdir(), 'keyrite-cli-'))));
});

describe('keyrite share check', () => {
  it('prints the header line of a well-formed share (numbered, one per line)', () => {
    const r = run([], issued[1].words.map((w, i) => `${i + 1}. ${w}`).join('\n'));
    expect(r.status).toBe(0);
    expect(r.stdout.split('\n')[0]).toBe(issued[1].header);
  });

  it('with --backup confirms the share is genuine and names the custodian', () => {
    const r = run(['--backup', file], issued[2].words.join(' '));
    expect(r.status).toBe(0);
    expect(r.stdout).toContain(`Genuine: share 3 of backup 'cli-key', issued to Cy.`);
  });

  it.each([
    ['a mistyped word', (w: string[]) => { w[4] = WORDS[(WORDS.indexOf(w[4]) + 1) % 2048]; }, 'SHARE_CHECKSUM', 'Word 5 is most likely wrong'],
    ['an unknown word', (w: string[]) => { w[0] = 'qqqq'; }, 'SHARE_UNKNOWN_WORD', 'Word 1 is not in the word list'],
    ['two swapped words', (w: string[]) => { const i = w.findIndex((x, k) => k > 2 && x !== w[k + 1]); [w[i], w[i + 1]] = [w[i + 1], w[i]]; }, 'SHARE_CHECKSUM', 'look swapped'],
    ['a missing word', (w: string[]) => { w.pop(); }, 'SHARE_WORD_COUNT', 'has 32 words'],
  ])('%s: one-line reason on stderr, non-zero exit', (_n, mutate, code, text) => {
    const words = issued[0].words.slice();
    mutate(words);
    const r = run([], words.join(' '));
    expect(r.status).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain(`[${code}]`);
    expect(r.stderr).toContain(text);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    // stderr outlives the screen (a log, the scrollback): the problem is named by number, no word quoted.
    for (const w of new Set([...issued[0].words, ...words])) expect(r.stderr).not.toMatch(new RegExp(`'${w}'`));
  });

  it('with --backup refuses a share of another split', () => {
    const r = run(['--backup', file], foreign[0].words.join(' '));
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('[SHARE_FOREIGN_SPLIT]');
  });

  it('with --backup of a damaged file says what is wrong before reading any words', () => {
    const r = run(['--backup', path.join(root, 'package.json')], issued[0].words.join(' '));
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('[BACKUP_');
  });
});
