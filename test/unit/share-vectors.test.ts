import { createCipheriv } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { combine } from 'shamir-secret-sharing';
import { describe, expect, it } from 'vitest';
import { decodeShare, encodeShare, shareHeader } from '../../src/core/backup/share-codec';
import { shareDigest } from '../../src/core/backup/share-check';

interface Vector {
  kekHex: string;
  kcvAesCmac: string;
  kcvAesEcb: string;
  shares: Array<{ header: string; shamirShareHex: string; digest: string; words: string }>;
}

/** The vector is read from docs/formats.md itself, so the document cannot drift from the code. */
function readVector(): Vector {
  const doc = readFileSync(path.join(__dirname, '../../docs/formats.md'), 'utf8');
  const m = /<!-- vector:share-v1 -->\s*```json\n([\s\S]*?)\n```/.exec(doc);
  if (!m) throw new Error('docs/formats.md has no share-v1 vector block');
  return JSON.parse(m[1]) as Vector;
}

describe('docs/formats.md share test vector', () => {
  const v = readVector();

  it.each(v.shares.map((s, i) => [i + 1, s] as const))('share %i encodes to the documented words, header and digest', (index, s) => {
    const decoded = decodeShare(s.words);
    expect(decoded).toMatchObject({ version: 1, splitId: '7F3A-91C2', threshold: 2, count: 3, index });
    expect(Buffer.from(decoded.share).toString('hex')).toBe(s.shamirShareHex);
    expect(encodeShare(decoded).join(' ')).toBe(s.words);
    expect(shareHeader(decoded)).toBe(s.header);
    expect(shareDigest(decoded.splitId, decoded.index, decoded.share)).toBe(s.digest);
  });

  it('every pair of shares rebuilds the documented KEK', async () => {
    const shares = v.shares.map((s) => decodeShare(s.words).share);
    for (const [a, b] of [[0, 1], [0, 2], [1, 2]]) {
      const kek = await combine([new Uint8Array(shares[a]), new Uint8Array(shares[b])]);
      expect(Buffer.from(kek).toString('hex')).toBe(v.kekHex);
    }
  });

  it('the documented KCVs are AES-256-ECB (Node) and AES-256-CMAC (openssl) of a zero block', () => {
    const kek = Buffer.from(v.kekHex, 'hex');
    expect(createCipheriv('aes-256-ecb', kek, null).update(Buffer.alloc(16)).subarray(0, 8).toString('hex')).toBe(v.kcvAesEcb);
    const zero = path.join(mkdtempSync(path.join(os.tmpdir(), 'keyrite-kcv-')), 'zero');
    writeFileSync(zero, Buffer.alloc(16));
    const mac = execFileSync('openssl', ['mac', '-cipher', 'AES-256-CBC', '-macopt', `hexkey:${v.kekHex}`, '-in', zero, 'CMAC']).toString().trim().toLowerCase();
    expect(mac.slice(0, 16)).toBe(v.kcvAesCmac);
  });
});
