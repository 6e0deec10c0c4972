import type { Store } from './db';

export interface CeremonyTranscriptKey {
  ceremonyId: string;
  label: string;
  spkiSha256: string;
  /**
   * How the ceremony ended, or null while it runs: 'sealed' when its chain ends in CEREMONY_SEALED
   * (it may still say 'running' if it stopped between signing and destroying), 'aborted' when it
   * was aborted. Either way the key has no more legitimate use, so one still on a token is a drift.
   */
  ended: 'sealed' | 'aborted' | null;
}

/**
 * The transcript-signing keys ceremonies created (one per ceremony, recorded in its state). They
 * are not managed keys with ids, but they are Keyrite's own: reconcile recognises them.
 */
export async function ceremonyTranscriptKeys(store: Store): Promise<CeremonyTranscriptKey[]> {
  const rows = await store.all<{ id: string; state: string; status: string; last: string | null }>(
    'SELECT c.id, c.state, c.status, (SELECT e.line FROM events e WHERE e.ceremony_id = c.id ORDER BY e.seq DESC LIMIT 1) AS last FROM ceremonies c',
  );
  const out: CeremonyTranscriptKey[] = [];
  for (const r of rows) {
    const key = (JSON.parse(r.state) as { transcriptKey?: { label?: unknown; spkiSha256?: unknown } }).transcriptKey;
    if (typeof key?.label !== 'string' || typeof key.spkiSha256 !== 'string') continue;
    const lastType = r.last !== null ? (JSON.parse(r.last) as { type?: unknown }).type : null;
    const ended = r.status === 'sealed' || lastType === 'CEREMONY_SEALED' ? 'sealed' : r.status === 'aborted' || lastType === 'CEREMONY_ABORTED' ? 'aborted' : null;
    out.push({ ceremonyId: r.id, label: key.label, spkiSha256: key.spkiSha256, ended });
  }
  return out;
}
