import type { Store } from '../../core/store/db';
import type { ChannelOutput } from '../../shared/ipc-contract';

const GENESIS = '0'.repeat(64);
const SUMMARY_MAX = 240;

/**
 * The transcript view: every event recorded so far for a ceremony, as stored (the same lines the
 * bundle's transcript.jsonl will hold), with a one-line summary of its evidence. Events never
 * carry secrets, so showing them is safe on any screen.
 */
export async function readEvents(store: Store, ceremonyId: string): Promise<ChannelOutput<'ceremony:events'>> {
  const rows = await store.all<{ seq: number; line: string; hash: string }>('SELECT seq, line, hash FROM events WHERE ceremony_id = ? ORDER BY seq', [ceremonyId]);
  const events = rows.map((r) => {
    let parsed: { type?: unknown; at?: unknown; step?: unknown; actor?: unknown; data?: unknown } = {};
    try {
      parsed = JSON.parse(r.line) as typeof parsed;
    } catch {
      // A damaged line is still listed, by hash; `keyrite verify` names what is wrong with it.
    }
    const parts: string[] = [];
    if (typeof parsed.step === 'string') parts.push(`step ${parsed.step}`);
    if (typeof parsed.actor === 'string') parts.push(`by ${parsed.actor}`);
    if (parsed.data && typeof parsed.data === 'object' && Object.keys(parsed.data).length > 0) parts.push(JSON.stringify(parsed.data));
    const summary = parts.join(' · ');
    return {
      seq: r.seq,
      type: typeof parsed.type === 'string' ? parsed.type : 'UNREADABLE',
      at: typeof parsed.at === 'string' ? parsed.at : null,
      hash: r.hash,
      summary: summary.length > SUMMARY_MAX ? `${summary.slice(0, SUMMARY_MAX - 1)}…` : summary,
    };
  });
  const last = rows[rows.length - 1];
  return { chainHead: last ? { seq: last.seq, hash: last.hash } : { seq: 0, hash: GENESIS }, events };
}
