import { createHash, timingSafeEqual } from 'node:crypto';
import { combine } from 'shamir-secret-sharing';
import { KeyriteError, zeroize } from '../errors';
import type { BackupFile } from './backup-file';
import { shareHeader, type DecodedShare } from './share-codec';
import { splitIdBytes } from './split-id';

export const SHARE_DIGEST_TAG = 'keyrite/share-digest/v1';

/**
 * SHA-256(tag ‖ 0x00 ‖ split id (4) ‖ index (1) ‖ Shamir share (33)), hex. Not secret: a share
 * has 256 bits of entropy, so its digest reveals nothing, yet it confirms a typed share before
 * any KEK exists.
 */
export function shareDigest(splitId: string, index: number, share: Uint8Array): string {
  return createHash('sha256')
    .update(Buffer.from(SHARE_DIGEST_TAG, 'utf8'))
    .update(Buffer.from([0]))
    .update(splitIdBytes(splitId))
    .update(Buffer.from([index]))
    .update(share)
    .digest('hex');
}

/** Check one typed share against the backup it should belong to; say exactly what is wrong. */
export function checkShareAgainstBackup(backup: BackupFile, share: DecodedShare): { index: number; custodian: string } {
  const split = backup.split;
  if (share.splitId !== split.id) {
    throw new KeyriteError('SHARE_FOREIGN_SPLIT', `This share (${shareHeader(share)}) belongs to another ceremony or split: backup '${backup.keyId}' was split as ${split.id}. Find the share card for split ${split.id}.`, {
      details: { shareSplit: share.splitId, backupSplit: split.id, keyId: backup.keyId },
    });
  }
  if (share.threshold !== split.threshold || share.count !== split.count) {
    throw new KeyriteError('SHARE_THRESHOLD_MISMATCH', `This share says it is one of ${share.count} needing ${share.threshold}, but backup '${backup.keyId}' was split ${split.threshold}-of-${split.count}. The share's words were altered or mistyped; check them against the card.`, {
      details: { shareThreshold: share.threshold, shareCount: share.count, backupThreshold: split.threshold, backupCount: split.count },
    });
  }
  const entry = split.shares.find((s) => s.index === share.index);
  if (!entry || share.index < 1 || share.index > split.count) {
    throw new KeyriteError('SHARE_INDEX_RANGE', `This share says it is share ${share.index}, but backup '${backup.keyId}' has shares 1 to ${split.count} only.`, { details: { index: share.index, count: split.count } });
  }
  const actual = Buffer.from(shareDigest(share.splitId, share.index, share.share), 'hex');
  const expected = Buffer.from(entry.digest, 'hex');
  if (actual.length !== expected.length || !timingSafeEqual(actual, expected)) {
    throw new KeyriteError('SHARE_DIGEST_MISMATCH', `Share ${share.index} (custodian ${entry.custodian}) is well-formed but is not the share that was issued: its contents differ from the backup's record. It was altered or belongs to a different key; do not use it.`, {
      details: { index: share.index, custodian: entry.custodian },
    });
  }
  return { index: share.index, custodian: entry.custodian };
}

/**
 * Everything that can be checked about a set of shares before the KEK is rebuilt: one split,
 * each share genuine, no duplicates, enough of them.
 */
export function checkShareSet(backup: BackupFile, shares: DecodedShare[]): Array<{ index: number; custodian: string }> {
  const splits = [...new Set(shares.map((s) => s.splitId))];
  if (splits.length > 1) {
    throw new KeyriteError('SHARE_MIXED_SPLITS', `These shares come from ${splits.length} different splits (${splits.join(', ')}); they can never be combined. Use only shares of split ${backup.split.id}.`, { details: { splits, backupSplit: backup.split.id } });
  }
  const seen = new Map<number, string>();
  const accepted: Array<{ index: number; custodian: string }> = [];
  for (const share of shares) {
    const ok = checkShareAgainstBackup(backup, share);
    if (seen.has(ok.index)) {
      throw new KeyriteError('SHARE_DUPLICATE', `Share ${ok.index} (custodian ${ok.custodian}) was entered twice. Each share counts once; enter a different custodian's share.`, { details: { index: ok.index, custodian: ok.custodian } });
    }
    seen.set(ok.index, ok.custodian);
    accepted.push(ok);
  }
  const need = backup.split.threshold;
  if (accepted.length < need) {
    const more = need - accepted.length;
    throw new KeyriteError('SHARE_TOO_FEW', `${accepted.length} of the ${need} shares needed are entered; ${more} more ${more === 1 ? 'share is' : 'shares are'} needed to rebuild the KEK.`, {
      details: { have: accepted.length, needed: need, more, entered: accepted.map((a) => a.index) },
    });
  }
  return accepted;
}

/** Rebuild the KEK bytes from checked shares. The caller zeroizes the result. */
export async function combineShares(backup: BackupFile, shares: DecodedShare[]): Promise<Uint8Array> {
  checkShareSet(backup, shares);
  // shamir-secret-sharing insists on plain Uint8Array (not Buffer); copies are zeroized below.
  const copies = shares.map((s) => new Uint8Array(s.share));
  try {
    return await combine(copies);
  } finally {
    zeroize(...copies);
  }
}
