import type { CeremonyView } from '../../core/ceremony/types';
import { hexToPgpWords } from '../../core/transcript/pgp-words';
import type { WitnessViewData } from '../../shared/ipc-contract';

/**
 * The witness window's view of a ceremony: what the room may see on a projector. Built by
 * picking fields, never by copying the view and deleting some, so a field added to CeremonyView
 * later (a secret one included) does not reach the witness screen by default.
 */
export function toWitnessView(v: CeremonyView): WitnessViewData {
  const need = v.current?.need;
  return {
    ceremonyId: v.ceremonyId,
    title: v.title,
    status: v.status,
    demo: v.demo,
    steps: v.steps.map((s) => ({ index: s.index, id: s.id, title: s.title, action: s.action, status: s.status })),
    current: v.current
      ? {
          index: v.current.index,
          title: v.current.title,
          say: v.current.say,
          needKind: need?.kind ?? 'done',
          signed: need?.kind === 'signoff' ? need.signed.map((s) => ({ personId: s.personId, name: s.name, role: s.role })) : [],
          remaining: need?.kind === 'signoff' ? { ...need.remaining } : { ...v.current.confirm },
          custodian: need?.kind === 'shareHandout' ? { name: need.custodian.name, shareIndex: need.shareIndex, of: need.of, phase: need.phase, sealed: Boolean(need.sealed) } : null,
        }
      : null,
    fingerprints: [...enrolledKeyOf(v), ...fingerprintsOf(v.current?.evidence ?? null)].slice(0, 8),
    chainHead: { seq: v.chainHead.seq, hash: v.chainHead.hash },
    sealed: v.sealed ? { finalHash: v.sealed.finalHash, finalHashWords: [...v.sealed.finalHashWords], keyFingerprintWords: [...v.sealed.keyFingerprintWords] } : undefined,
  };
}

/**
 * The OpenPGP key a custodian is confirming at check-in, or the key their share is being sealed
 * to: the room follows the fingerprint words the custodian reads aloud. Public; never the share.
 */
function enrolledKeyOf(v: CeremonyView): WitnessViewData['fingerprints'] {
  const need = v.current?.need;
  if (need?.kind === 'openpgpConfirm') {
    return [{ label: `OpenPGP key of ${need.custodian.name}`, value: need.fingerprint, words: [...need.fingerprintWords] }];
  }
  if (need?.kind === 'shareHandout' && need.sealed) {
    const fpr = need.sealed.recipientFingerprint;
    return [{ label: `Share ${need.shareIndex} sealed to the OpenPGP key of ${need.custodian.name}`, value: fpr, words: /^[0-9a-f]+$/i.test(fpr) && fpr.length % 2 === 0 ? hexToPgpWords(fpr) : [] }];
  }
  return [];
}

/** Evidence values whose key names a key fingerprint (SPKI hashes), for the room to compare. */
function fingerprintsOf(evidence: Record<string, unknown> | null, prefix = ''): WitnessViewData['fingerprints'] {
  if (!evidence) return [];
  const out: WitnessViewData['fingerprints'] = [];
  for (const [key, value] of Object.entries(evidence)) {
    const label = prefix ? `${prefix}.${key}` : key;
    if (typeof value === 'string' && /fingerprint|spki/i.test(key)) out.push({ label, value, words: /^[0-9a-f]{2,}$/i.test(value) && value.length % 2 === 0 ? hexToPgpWords(value) : [] });
    else if (value && typeof value === 'object' && !Array.isArray(value) && prefix.split('.').length < 3) out.push(...fingerprintsOf(value as Record<string, unknown>, label));
  }
  return out.slice(0, 8);
}
