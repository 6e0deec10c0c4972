import type { Store } from './db';

/**
 * A recovery drill's claim on the label it restores into a token, taken before anything is
 * unwrapped. Two drills of one backup into one token both found the label free, both announced,
 * both unwrapped: two keys under one label, neither drill able to go on. The claim is taken under
 * the store's write lock; one held by a ceremony that is no longer running is stale and replaced.
 * Returns the id of the running ceremony that holds the claim, or null once it is this one's.
 */
export async function claimRestoreLabel(store: Store, claim: { tokenSerial: string; label: string; ceremonyId: string; at: string }): Promise<string | null> {
  return store.transaction(async (tx) => {
    const held = await tx.get<{ ceremony_id: string; status: string | null }>(
      'SELECT r.ceremony_id, c.status FROM restore_claims r LEFT JOIN ceremonies c ON c.id = r.ceremony_id WHERE r.token_serial = ? AND r.label = ?',
      [claim.tokenSerial, claim.label],
    );
    if (held && held.ceremony_id !== claim.ceremonyId && held.status === 'running') return held.ceremony_id;
    await tx.run('INSERT OR REPLACE INTO restore_claims (token_serial, label, ceremony_id, claimed_at) VALUES (?, ?, ?, ?)', [claim.tokenSerial, claim.label, claim.ceremonyId, claim.at]);
    return null;
  });
}
