import { randomBytes } from 'node:crypto';
import { combine, split } from 'shamir-secret-sharing';
import { isKeyriteError, zeroize } from '../../src/core/errors';
import type { BackupFile } from '../../src/core/backup/backup-file';
import { issueShares, type IssuedShare } from '../../src/core/backup/issue-shares';
import { combineShares } from '../../src/core/backup/share-check';
import { decodeShare } from '../../src/core/backup/share-codec';
import { WORDS } from '../../src/core/backup/wordlist';
import { belowCheck, ratioOf, type Row } from '../lib/row';
import { interleave, nowMs, stats, type Stats } from '../lib/stats';

const CUSTODIANS = ['Cora Custodian', 'Carl Custodian', 'Cleo Custodian', 'Cyd Custodian', 'Cass Custodian'];

/**
 * 6. Shares, per operation, through the backup module's own functions: issueShares (split a
 * 32-byte KEK 3-of-5, encode each share as 33 words, decode each back, rebuild from two subsets,
 * digest each share); decoding 3 typed shares, checking them against the backup's digests and
 * combining them (combineShares); and decoding a share with one wrong word, which runs the
 * substitution search that names the word. Each is compared with the bare library call or the
 * codec's happy path. No HSM is involved: the KEK bytes here are random test bytes.
 */
export async function run(opts: { quick: boolean }): Promise<Row[]> {
  const rounds = opts.quick ? 30 : 300;
  const policy = { threshold: 3, count: 5, custodians: CUSTODIANS };
  const kek = new Uint8Array(randomBytes(32));
  const { issued, split: splitRecord } = await issueShares(kek, randomBytes(4), policy);
  const backup = backupFor(splitRecord);
  const text = (s: IssuedShare): string => s.words.join(' ');
  const three = [issued[0], issued[2], issued[4]].map(text);
  const rawParts = await split(new Uint8Array(kek), 5, 3);
  const rows: Row[] = [];

  // 6a split + encode
  {
    const samples = await interleave(
      [
        { name: 'keyrite', run: async () => timed(async () => { await issueShares(kek, randomBytes(4), policy); }) },
        { name: 'raw', run: async () => timed(async () => { await split(new Uint8Array(kek), 5, 3); }) },
      ],
      { rounds, warmup: 10 },
    );
    rows.push(row('6a', 'split a 32-byte KEK 3-of-5 and encode the 5 shares', 'issueShares', 'shamir-secret-sharing split() alone', samples, 'issueShares also decodes every share back, rebuilds the KEK from two 3-subsets and takes each share\'s digest before anything is handed out.'));
  }

  // 6b decode + verify + combine
  {
    const samples = await interleave(
      [
        {
          name: 'keyrite',
          run: async () =>
            timed(async () => {
              const decoded = three.map((t) => decodeShare(t));
              const rebuilt = await combineShares(backup, decoded);
              if (!Buffer.from(rebuilt).equals(Buffer.from(kek))) throw new Error('bench: combineShares rebuilt the wrong KEK');
              zeroize(rebuilt, ...decoded.map((d) => d.share));
            }),
        },
        { name: 'raw', run: async () => timed(async () => { await combine([rawParts[0], rawParts[2], rawParts[4]].map((p) => new Uint8Array(p))); }) },
      ],
      { rounds, warmup: 10 },
    );
    rows.push(row('6b', 'decode 3 typed shares, check their digests, combine', 'decodeShare ×3 + combineShares', 'shamir-secret-sharing combine() alone', samples, 'Decoding parses 33 words per share, checks the Reed–Solomon checksum and the fields; combineShares checks split id, threshold, index and the SHA-256 digest of each share against the backup file before combining.'));
  }

  // 6c one mistyped word
  {
    let n = 0;
    const good = text(issued[1]);
    const samples = await interleave(
      [
        {
          name: 'keyrite',
          run: () => {
            const words = [...issued[1].words];
            const position = n++ % words.length;
            words[position] = WORDS[(WORDS.indexOf(words[position]) + 1 + (n % 2000)) % WORDS.length];
            const typed = words.join(' ');
            const t0 = nowMs();
            try {
              decodeShare(typed);
            } catch (e) {
              const ms = nowMs() - t0;
              if (!isKeyriteError(e) || e.code !== 'SHARE_CHECKSUM' || e.details.position !== position + 1) throw new Error(`bench: the wrong word at ${position + 1} was not named (${String(e)})`);
              return ms;
            }
            throw new Error('bench: a mistyped share decoded');
          },
        },
        { name: 'raw', run: () => timed(() => zeroize(decodeShare(good).share)) },
      ],
      { rounds, warmup: 10 },
    );
    rows.push(row('6c', 'locate one mistyped word (substitution search)', 'decodeShare → SHARE_CHECKSUM naming the word', 'decodeShare of the correct share', samples, 'The wrong word is moved over all 33 positions; each run must name the right position or the benchmark fails.'));
  }
  zeroize(kek, ...rawParts);
  return rows;
}

async function timed(fn: () => unknown): Promise<number> {
  const t0 = nowMs();
  await fn();
  return nowMs() - t0;
}

function row(id: string, name: string, label: string, refLabel: string, samples: Map<string, number[]>, note: string): Row {
  const k: Stats = stats(samples.get('keyrite')!);
  const r: Stats = stats(samples.get('raw')!);
  const ratio = ratioOf(k, r);
  return {
    id,
    group: 'Shares',
    name,
    keyrite: { label, unit: 'ms', stats: k },
    reference: { label: refLabel, unit: 'ms', stats: r },
    ratio,
    target: '< 5 ms per operation',
    checks: [belowCheck(k.median, 5, 'ms')],
    notes: [`${k.n} interleaved operations per side. ${note} The ratio is information only: the target is the absolute 5 ms.`],
  };
}

function backupFor(split: BackupFile['split']): BackupFile {
  return {
    formatVersion: 1,
    keyId: 'ecp384-2026-01',
    keyLabel: 'bench-root',
    ckaId: '',
    keyType: 'ec-p384',
    keyUsage: ['sign'],
    spkiDer: 'AA==',
    spkiSha256: '0'.repeat(64),
    wrapMechanism: 'CKM_AES_KEY_WRAP_PAD',
    wrapTrust: 'untrusted',
    wrappedKey: 'AA==',
    kek: { algorithm: 'AES-256', kcv: '0'.repeat(16), kcvMethod: 'aes-cmac' },
    split,
    ceremonyId: 'bench-shares',
    createdAt: new Date().toISOString(),
  };
}
