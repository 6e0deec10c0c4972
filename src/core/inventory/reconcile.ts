import { KeyriteError } from '../errors';
import { ceremonyTranscriptKeys } from '../store/transcript-keys';
import { readKeyAttributes, type KeyAttributeReport } from '../hsm/keygen';
import { pkcs11js } from '../hsm/pkcs11js';
import { readPublicKey } from '../hsm/public-key';
import type { Handle, HsmSession, ObjectClass } from '../hsm/session';
import type { Inventory } from './inventory';
import type { InventoryKey } from './types';

export type DriftKind = 'missing' | 'unknown' | 'attribute' | 'fingerprint' | 'present-after-destroy' | 'transcript-key-kept' | 'unrecorded';

export interface Drift {
  kind: DriftKind;
  keyId?: string;
  label: string;
  message: string;
}

interface TokenObjects {
  private: Handle[];
  public: Handle[];
  secret: Handle[];
}

/** Usage flags as the token reports them, over both halves of the pair. */
function observedUsage(a: KeyAttributeReport): string[] {
  const u: string[] = [];
  if (a.sign) u.push('sign');
  if (a.publicVerify) u.push('verify');
  if (a.publicWrap) u.push('wrap');
  if (a.unwrap) u.push('unwrap');
  if (a.publicEncrypt) u.push('encrypt');
  if (a.decrypt) u.push('decrypt');
  if (a.derive) u.push('derive');
  return u;
}

function onThisToken(k: InventoryKey, session: HsmSession): boolean {
  return k.tokenSerial ? k.tokenSerial === session.token.serial : k.tokenLabel === session.token.label;
}

/**
 * Compare the inventory with the keys actually on the session's token: keys that vanished,
 * keys nobody recorded, attributes that drifted (became extractable, lost sensitive, usage
 * changed), public keys that are not the recorded ones, and destroyed keys that are still there.
 * Only inventory keys recorded on this token (by serial) are compared. Needs a logged-in
 * session: without login private keys are invisible and every key would look missing.
 */
export async function reconcileInventory(inventory: Inventory, session: HsmSession): Promise<Drift[]> {
  if (!session.isLoggedIn) {
    throw new KeyriteError('INVENTORY_LOGIN_REQUIRED', `Log in to token '${session.token.label}' before checking the inventory: private keys are only visible after login.`);
  }
  const keys = (await inventory.list()).filter((k) => onThisToken(k, session));
  const byLabel = new Map<string, TokenObjects>();
  const objectsFor = (label: string): TokenObjects => {
    let o = byLabel.get(label);
    if (!o) byLabel.set(label, (o = { private: [], public: [], secret: [] }));
    return o;
  };
  for (const cls of ['private', 'public', 'secret'] as ObjectClass[]) {
    for (const h of session.find({ class: cls }, 4096)) {
      const raw = session.getAttributesLenient(h, [pkcs11js.CKA_LABEL]).get(pkcs11js.CKA_LABEL);
      objectsFor(raw ? raw.toString('utf8') : '')[cls].push(h);
    }
  }
  // Fingerprints of every public key on the token, to recognise relabelled keys.
  const fingerprintOf = new Map<string, string>();
  const labelOfFingerprint = new Map<string, string>();
  for (const [label, o] of byLabel) {
    for (const h of o.public) {
      try {
        const fp = readPublicKey(session, h).fingerprint;
        fingerprintOf.set(h.toString('hex'), fp);
        labelOfFingerprint.set(fp, label);
      } catch {
        // A public key Keyrite cannot read (other algorithm) is still reported as unknown below.
      }
    }
  }

  const drifts: Drift[] = [];
  const claimed = new Set<string>();
  for (const k of keys) {
    const objects = byLabel.get(k.label);
    if (k.status === 'destroyed') {
      const sameLabel = objects && objects.private.length + objects.public.length + objects.secret.length > 0;
      const relabelled = labelOfFingerprint.get(k.fingerprint);
      if (sameLabel) {
        claimed.add(k.label);
        drifts.push({ kind: 'present-after-destroy', keyId: k.id, label: k.label, message: `Key ${k.id} ('${k.label}') is recorded as destroyed, but token '${session.token.label}' still holds ${describeObjects(objects!)} with its label. Destroy it in a destruction ceremony and record its absence.` });
      } else if (relabelled !== undefined) {
        claimed.add(relabelled);
        drifts.push({ kind: 'present-after-destroy', keyId: k.id, label: k.label, message: `Key ${k.id} ('${k.label}') is recorded as destroyed, but its public key is still on token '${session.token.label}' under the label '${relabelled}'. Destroy it in a destruction ceremony.` });
      }
      continue;
    }
    claimed.add(k.label);
    if (!objects || (objects.private.length === 0 && objects.public.length === 0)) {
      const elsewhere = labelOfFingerprint.get(k.fingerprint);
      const hint = elsewhere !== undefined ? ` Its public key is on the token under the label '${elsewhere}' (relabelled?).` : ' Restore it from its backup in a recovery ceremony, or record it as compromised or destroyed.';
      if (elsewhere !== undefined) claimed.add(elsewhere);
      drifts.push({ kind: 'missing', keyId: k.id, label: k.label, message: `Key ${k.id} ('${k.label}', ${k.status}) is in the inventory but not on token '${session.token.label}'.${hint}` });
      continue;
    }
    if (objects.private.length !== 1 || objects.public.length !== 1) {
      const half = objects.private.length === 0 ? 'its private key is missing' : objects.public.length === 0 ? 'its public key is missing' : `the token holds ${describeObjects(objects)} with this label, not one pair`;
      drifts.push({ kind: objects.private.length === 0 || objects.public.length === 0 ? 'missing' : 'unknown', keyId: k.id, label: k.label, message: `Key ${k.id} ('${k.label}') on token '${session.token.label}': ${half}.` });
    }
    const pub = objects.public[0];
    if (pub) {
      const fp = fingerprintOf.get(pub.toString('hex'));
      if (fp !== k.fingerprint) {
        drifts.push({ kind: 'fingerprint', keyId: k.id, label: k.label, message: `The public key labelled '${k.label}' on token '${session.token.label}' has fingerprint ${fp ?? '(unreadable)'}, but key ${k.id} was recorded with ${k.fingerprint}. This is not the recorded key; do not use it.` });
      }
    }
    const priv = objects.private[0];
    if (priv && pub) {
      const a = readKeyAttributes(session, priv, pub);
      if (a.extractable && !k.attributes.extractable) {
        drifts.push({ kind: 'attribute', keyId: k.id, label: k.label, message: `Key ${k.id} ('${k.label}') has become extractable (CKA_EXTRACTABLE is true, recorded false): it could be exported from the token.` });
      }
      if (!a.sensitive && k.attributes.sensitive) {
        drifts.push({ kind: 'attribute', keyId: k.id, label: k.label, message: `Key ${k.id} ('${k.label}') is no longer sensitive (CKA_SENSITIVE is false, recorded true): its value could be read in the clear.` });
      }
      const seen = observedUsage(a);
      const added = seen.filter((u) => !k.attributes.usage.includes(u));
      const lost = k.attributes.usage.filter((u) => !seen.includes(u));
      if (added.length > 0 || lost.length > 0) {
        const parts = [added.length ? `now also allows ${added.join(', ')}` : '', lost.length ? `no longer allows ${lost.join(', ')}` : ''].filter(Boolean);
        drifts.push({ kind: 'attribute', keyId: k.id, label: k.label, message: `The usage of key ${k.id} ('${k.label}') changed: it ${parts.join(' and ')} (recorded: ${k.attributes.usage.join(', ')}).` });
      }
    }
  }
  const ceremonies = await ceremonyTranscriptKeys(inventory.store);
  const transcriptKeys = new Map(ceremonies.map((t) => [t.label, t]));
  // Every ceremony that generates a key has logged in first, so has a transcript key: how it ended.
  const endedOf = new Map(ceremonies.map((t) => [t.ceremonyId, t.ended]));
  const keyIdClaims = new Map((await inventory.records.claims()).map((c) => [c.keyId, c]));
  for (const [label, o] of byLabel) {
    if (claimed.has(label)) continue;
    const fp = o.public.map((h) => fingerprintOf.get(h.toString('hex'))).find((f) => f !== undefined);
    const transcriptKey = transcriptKeys.get(label);
    if (transcriptKey) {
      // A ceremony's own transcript-signing key: known, as long as it is the key that ceremony recorded.
      if (fp !== transcriptKey.spkiSha256) {
        drifts.push({ kind: 'fingerprint', label, message: `The transcript key '${label}' on token '${session.token.label}' has fingerprint ${fp ?? '(unreadable)'}, but ceremony ${transcriptKey.ceremonyId} recorded ${transcriptKey.spkiSha256}. It is not that ceremony's key; find out where it came from.` });
      } else if (transcriptKey.ended === 'sealed' && o.private.length > 0) {
        // One-time key: sealing destroys it. Still here, it can re-sign a rewritten transcript.
        drifts.push({ kind: 'transcript-key-kept', label, message: `The transcript key '${label}' of sealed ceremony ${transcriptKey.ceremonyId} is still on token '${session.token.label}': anyone with the user PIN could re-sign a rewritten transcript with it. Destroy it (resume the ceremony's seal step, or destroy the objects labelled '${label}').` });
      } else if (transcriptKey.ended === 'aborted' && o.private.length > 0) {
        // Abort touches no token (it needs no PIN), so the key stays; it could sign a made-up
        // "sealed" transcript of the ceremony that never finished.
        drifts.push({ kind: 'transcript-key-kept', label, message: `The transcript key '${label}' of aborted ceremony ${transcriptKey.ceremonyId} is still on token '${session.token.label}': it signed nothing, but anyone with the user PIN could sign a made-up sealed transcript of that ceremony with it. Destroy the objects labelled '${label}' (docs/hsm-notes.md, "An aborted ceremony").` });
      }
      continue;
    }
    const keyIdClaim = keyIdClaims.get(label);
    if (keyIdClaim) {
      // A ceremony's key between its generation and the commit that records it (a ceremony running
      // beside this check, or one stopped there): not a stranger, and resuming settles it.
      const ended = endedOf.get(keyIdClaim.ceremonyId) ?? null;
      drifts.push({
        kind: 'unrecorded', keyId: keyIdClaim.keyId, label, message: ended === null
          ? `Key ${keyIdClaim.keyId} (${describeObjects(o)} on token '${session.token.label}') is being made by ceremony ${keyIdClaim.ceremonyId}, which has not recorded it yet. It enters the inventory when that step is saved: if the ceremony stopped, resume it (\`keyrite ceremony resume ${keyIdClaim.ceremonyId}\`), then check again.`
          : `Key ${keyIdClaim.keyId} (${describeObjects(o)} on token '${session.token.label}') was made by ceremony ${keyIdClaim.ceremonyId}, which was ${ended} without recording it: it is no ceremony's key. Destroy the objects labelled '${label}'.`,
      });
      continue;
    }
    drifts.push({ kind: 'unknown', label, message: `Token '${session.token.label}' holds ${describeObjects(o)} labelled '${label}' that the inventory does not know${fp ? ` (fingerprint ${fp})` : ''}. Find out where it came from before the next ceremony.` });
  }
  return drifts;
}

function describeObjects(o: TokenObjects): string {
  const parts: string[] = [];
  if (o.private.length) parts.push(`${o.private.length} private key(s)`);
  if (o.public.length) parts.push(`${o.public.length} public key(s)`);
  if (o.secret.length) parts.push(`${o.secret.length} secret key(s)`);
  return parts.join(', ') || 'no objects';
}
