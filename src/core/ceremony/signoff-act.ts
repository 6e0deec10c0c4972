import { KeyriteError } from '../errors';
import type { Participant, SignoffMethod } from './types';

/**
 * A sign-off is a personal act: the person types their own name or initials, so that pressing
 * Enter twice, or a neighbour's click, cannot sign for somebody else. This checks what was typed
 * against the person and says how they signed, for the transcript.
 */
export function signoffMethod(person: Participant, input: { method?: SignoffMethod; typed?: string }): SignoffMethod {
  if (input.typed === undefined) {
    if (input.method && input.method !== 'answers-file') {
      throw new KeyriteError('CEREMONY_SIGNOFF_NOT_TYPED', `${person.name} must type their name or initials to sign off.`, { details: { personId: person.id } });
    }
    return 'answers-file';
  }
  const typed = normalize(input.typed);
  if (typed && typed === normalize(person.name)) return 'typed-name';
  if (typed && typed.replace(/[\s.]/g, '') === initials(person.name)) return 'typed-initials';
  throw new KeyriteError('CEREMONY_SIGNOFF_NAME_MISMATCH', `What was typed is not ${person.name}'s name or initials (${initials(person.name).toUpperCase()}). ${person.name} signs for themselves: type your full name or your initials.`, { details: { personId: person.id } });
}

/** Lower case, single spaces: "  Cora   CUSTODIAN " and "cora custodian" are the same name. */
function normalize(text: string): string {
  return text.normalize('NFC').trim().replace(/\s+/g, ' ').toLowerCase();
}

/** "Cora Custodian" → "cc"; "Jean-Luc Picard" → "jlp". */
export function initials(name: string): string {
  return normalize(name)
    .split(/[\s-]+/)
    .filter(Boolean)
    .map((w) => [...w][0])
    .join('');
}

/** The sentence a person attests by signing off a step. */
export function attestationFor(step: { title: string }, index: number, before: boolean): string {
  return before
    ? `I have heard step ${index + 1}, "${step.title}", read aloud, I have checked what Keyrite shows, and I agree that it goes ahead.`
    : `I saw step ${index + 1}, "${step.title}", carried out as it was read aloud, and the evidence Keyrite shows for it is what happened in front of me.`;
}
