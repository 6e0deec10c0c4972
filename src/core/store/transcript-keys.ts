import type { Store } from './db';

export interface CeremonyTranscriptKey {
  ceremonyId: string;
  label: string;
  spkiSha256: string;
  /** The ceremony's status: a sealed ceremony's key was destroyed when it sealed, so one still on a token is a drift. */
  status: string;
}

/**
 * The transcript-signing keys ceremonies created (one per ceremony, recorded in its state). They
 * are not managed keys with ids, but they are Keyrite's own: reconcile recognises them.
 */
export async function ceremonyTranscriptKeys(store: Store): Promise<CeremonyTranscriptKey[]> {
  const rows = await store.all<{ id: string; state: string; status: string }>('SELECT id, state, status FROM ceremonies');
  const out: CeremonyTranscriptKey[] = [];
  for (const r of rows) {
    const key = (JSON.parse(r.state) as { transcriptKey?: { label?: unknown; spkiSha256?: unknown } }).transcriptKey;
    if (typeof key?.label === 'string' && typeof key.spkiSha256 === 'string') out.push({ ceremonyId: r.id, label: key.label, spkiSha256: key.spkiSha256, status: r.status });
  }
  return out;
}
