import { assertDistinctRecipients, enrolOpenPgpKey } from '../../backup/openpgp-recipient';
import { isKeyriteError, KeyriteError } from '../../errors';
import type { ActionContext, OpenPgpEnrolment } from '../context';
import type { Need, Participant, ParticipantEntry } from '../types';

/**
 * How many trailing hex digits of the fingerprint the custodian types from their own device: 32
 * bits, enough that a key swapped in between the custodian's device and Keyrite cannot match by
 * chance, short enough to type at the table. The whole fingerprint is read aloud as words.
 */
export const FINGERPRINT_TAIL = 8;

/**
 * Reads the keys custodians presented at check-in (before anything is recorded: a refused key
 * changes nothing, the check-in is simply sent again). Only custodians may present one, and no
 * key may serve two custodians.
 */
export async function enrolPresentedKeys(ctx: ActionContext, entries: ParticipantEntry[], list: Participant[]): Promise<Record<string, OpenPgpEnrolment>> {
  const out: Record<string, OpenPgpEnrolment> = {};
  for (const entry of entries) {
    if (entry.openpgpKey === undefined) continue;
    const person = list.find((p) => p.id === String(entry.id ?? '').trim());
    if (!person) continue;
    if (!person.roles.includes('custodian')) {
      throw new KeyriteError('OPENPGP_KEY_NOT_CUSTODIAN', `${person.name} is not a custodian; only a custodian's share is sealed to an OpenPGP key. Remove the key from ${person.name}'s check-in.`, { details: { personId: person.id } });
    }
    try {
      out[person.id] = { ...(await enrolOpenPgpKey(entry.openpgpKey, ctx.now())), status: 'pending' };
    } catch (e) {
      // Which custodian's key it was, in front of the library's own sentence.
      if (isKeyriteError(e)) throw new KeyriteError(e.code, `${person.name}'s key: ${e.message}`, { details: { ...e.details, personId: person.id } });
      throw e;
    }
  }
  assertDistinctRecipients(list.filter((p) => out[p.id]).map((p) => ({ custodian: p.name, fingerprint: out[p.id].fingerprint })));
  return out;
}

/** The next enrolled custodian who has not yet confirmed their fingerprint, in check-in order. */
function nextPending(ctx: ActionContext): Participant | undefined {
  return ctx.state.participants.find((p) => ctx.state.openpgp?.[p.id]?.status === 'pending');
}

export function fingerprintConfirmNeed(ctx: ActionContext): Need | null {
  const person = nextPending(ctx);
  if (!person) return null;
  const e = ctx.state.openpgp![person.id];
  const remaining = ctx.state.participants.filter((p) => p !== person && ctx.state.openpgp?.[p.id]?.status === 'pending').length;
  return {
    kind: 'openpgpConfirm', custodian: shownAs(ctx, person), fingerprint: e.fingerprint, fingerprintGroups: e.fingerprintGroups, fingerprintWords: e.fingerprintWords,
    userIds: e.userIds, algorithm: e.algorithm, expires: e.expires, tailLength: FINGERPRINT_TAIL, remaining,
  };
}

/**
 * The custodian typed the fingerprint's tail from their own device (recorded with the fingerprint,
 * user ids and expiry), or said it is not their key (recorded; they get words on screen instead).
 */
export function confirmFingerprint(ctx: ActionContext, input: { kind: 'openpgpConfirm'; typed: string } | { kind: 'openpgpReject' }): void {
  const person = nextPending(ctx);
  if (!person) throw new KeyriteError('CEREMONY_INPUT_UNEXPECTED', 'No OpenPGP key is waiting for its custodian\'s confirmation.');
  const e = ctx.state.openpgp![person.id];
  if (input.kind === 'openpgpReject') {
    e.status = 'rejected';
    ctx.emit('OPENPGP_KEY_REJECTED', { personId: person.id, custodian: person.name, fingerprint: e.fingerprint, reason: 'the custodian did not recognise the fingerprint', fallback: 'words' }, person.id);
    return;
  }
  const typed = input.typed.replace(/[\s:]/g, '').toUpperCase();
  const tail = e.fingerprint.slice(-FINGERPRINT_TAIL);
  if (typed !== tail) {
    throw new KeyriteError('OPENPGP_FINGERPRINT_MISMATCH', `That is not how the fingerprint of the key presented for ${person.name} ends (${FINGERPRINT_TAIL} hex digits expected). Read the last ${FINGERPRINT_TAIL} digits from your own device (gpg --fingerprint, or your card) again; if they differ, this is not your key: reject it.`, { details: { personId: person.id, tailLength: FINGERPRINT_TAIL } });
  }
  e.status = 'confirmed';
  ctx.emit('OPENPGP_KEY_ENROLLED', {
    personId: person.id, custodian: person.name, fingerprint: e.fingerprint, userIds: e.userIds, algorithm: e.algorithm, expires: e.expires,
    confirmedBy: 'typed fingerprint tail', tailLength: FINGERPRINT_TAIL,
  }, person.id);
}

/**
 * The custodian a share was made for. Shares are numbered in check-in order of the custodians
 * (the split takes them in that order), so the index finds the person even when two custodians
 * share a name — which matters once a share is sealed to that person's key.
 */
export function custodianOf(ctx: ActionContext, share: { index: number; custodian: string }): Participant | undefined {
  const byIndex = ctx.state.participants.filter((p) => p.roles.includes('custodian'))[share.index - 1];
  if (byIndex?.name === share.custodian) return byIndex;
  // Only a name nobody else checked in under identifies a person; two "Sam Lee"s are never guessed between.
  const named = ctx.state.participants.filter((p) => p.name === share.custodian);
  return named.length === 1 ? named[0] : undefined;
}

/**
 * A person as the screen names them: with their id after the name when someone else checked in
 * under the same name, so "everyone except Sam Lee looks away" never leaves the room guessing.
 */
export function shownAs(ctx: ActionContext, person: Participant): Participant {
  const twin = ctx.state.participants.some((p) => p.id !== person.id && p.name === person.name);
  return twin ? { ...person, name: `${person.name} (${person.id})` } : person;
}

/** The confirmed key a custodian's share is sealed to, or null: that custodian receives words. */
export function sealingKeyFor(ctx: ActionContext, share: { index: number; custodian: string }): OpenPgpEnrolment | null {
  const person = custodianOf(ctx, share);
  const e = person ? ctx.state.openpgp?.[person.id] : undefined;
  return e?.status === 'confirmed' ? e : null;
}
