import { timingSafeEqual } from 'node:crypto';
import { combine, split } from 'shamir-secret-sharing';
import { KeyriteError, zeroize } from '../errors';
import type { BackupFile } from './backup-file';
import { decodeShare, encodeShare, MAX_SHARES, MIN_THRESHOLD, shareHeader, SHARE_VERSION } from './share-codec';
import { shareDigest } from './share-check';
import { formatSplitId } from './split-id';

/** One share as handed to its custodian. `words` are secret: show them, never log or store them. */
export interface IssuedShare {
  index: number;
  custodian: string;
  header: string;
  words: string[];
}

export interface SplitPolicy {
  threshold: number;
  count: number;
  custodians: string[];
}

export function checkSplitPolicy(p: SplitPolicy): void {
  const { threshold: m, count: n } = p;
  if (!Number.isInteger(m) || !Number.isInteger(n) || m < MIN_THRESHOLD || n > MAX_SHARES || m > n) {
    throw new KeyriteError('BACKUP_SPLIT_INVALID', `A ${m}-of-${n} split is not allowed: Keyrite needs 2 ≤ threshold ≤ count ≤ 16.`, { details: { threshold: m, count: n } });
  }
  if (p.custodians.length !== n) {
    throw new KeyriteError('BACKUP_CUSTODIANS', `A split into ${n} shares needs ${n} custodians; ${p.custodians.length} were named.`, { details: { count: n, custodians: p.custodians.length } });
  }
  const blank = p.custodians.findIndex((c) => c.trim().length === 0);
  if (blank >= 0) throw new KeyriteError('BACKUP_CUSTODIANS', `Custodian ${blank + 1} has no name.`, { details: { position: blank + 1 } });
}

/**
 * Split the KEK m-of-n, encode each share as words and record its digest. Before anything is
 * handed out, every share is decoded back, and two different threshold subsets are combined and
 * compared with the KEK (the library itself detects nothing).
 */
export async function issueShares(kek: Uint8Array, splitIdRaw: Uint8Array, policy: SplitPolicy): Promise<{ issued: IssuedShare[]; split: BackupFile['split'] }> {
  checkSplitPolicy(policy);
  const splitId = formatSplitId(splitIdRaw);
  const secret = new Uint8Array(kek); // the library refuses Buffer; zeroized below
  let parts: Uint8Array[] = [];
  try {
    parts = await split(secret, policy.count, policy.threshold);
    await assertRebuilds(parts, kek, policy.threshold);
    const issued: IssuedShare[] = [];
    const records: BackupFile['split']['shares'] = [];
    parts.forEach((part, i) => {
      const index = i + 1;
      const decoded = { version: SHARE_VERSION, splitId, threshold: policy.threshold, count: policy.count, index, share: part } as const;
      const words = encodeShare(decoded);
      const back = decodeShare(words.join(' '));
      const same = back.splitId === splitId && back.index === index && Buffer.from(back.share).equals(Buffer.from(part));
      zeroize(back.share);
      if (!same) throw new KeyriteError('BACKUP_SHARE_ENCODING', `Share ${index} did not decode back to itself; nothing was issued.`);
      issued.push({ index, custodian: policy.custodians[i], header: shareHeader(decoded), words });
      records.push({ index, custodian: policy.custodians[i], digest: shareDigest(splitId, index, part) });
    });
    return { issued, split: { scheme: 'shamir-gf256', id: splitId, threshold: policy.threshold, count: policy.count, shares: records } };
  } finally {
    zeroize(secret, ...parts);
  }
}

async function assertRebuilds(parts: Uint8Array[], kek: Uint8Array, threshold: number): Promise<void> {
  const subsets = [parts.slice(0, threshold), parts.slice(parts.length - threshold)];
  for (const subset of subsets) {
    const copies = subset.map((p) => new Uint8Array(p));
    const rebuilt = await combine(copies);
    const ok = rebuilt.length === kek.length && timingSafeEqual(rebuilt, kek);
    zeroize(rebuilt, ...copies);
    if (!ok) throw new KeyriteError('BACKUP_SPLIT_FAILED', 'The shares did not rebuild the KEK in a self-check; nothing was issued. Retry the backup step.');
  }
}
