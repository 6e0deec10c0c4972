import { KeyriteError } from '../errors';
import type { TranscriptEvent } from './event-types';

/**
 * Short secrets (PINs) are matched as whole tokens only: a 6-digit PIN occurs by chance inside
 * some 64-digit hex fingerprint of a long ceremony, and that must not abort it. Long secrets
 * (KEK hex/base64, share phrases) are matched anywhere.
 */
const WHOLE_TOKEN_BELOW = 16;

function containsSecret(haystack: string, needle: string): boolean {
  if (needle.length >= WHOLE_TOKEN_BELOW) return haystack.includes(needle);
  for (let at = haystack.indexOf(needle); at !== -1; at = haystack.indexOf(needle, at + 1)) {
    const before = at === 0 ? '' : haystack[at - 1];
    const after = haystack[at + needle.length] ?? '';
    if (!/[0-9a-z]/.test(before) && !/[0-9a-z]/.test(after)) return true;
  }
  return false;
}

/**
 * Refuse an event that contains any of the given secrets (PINs, KEK bytes as hex/base64, share
 * words), compared case-insensitively in every string, number and field name of the event. The
 * error names the event and field, never the secret.
 */
export function assertNoSecrets(e: TranscriptEvent, secrets: string[]): void {
  const needles = secrets.filter((s) => typeof s === 'string' && s.length > 0).map((s) => s.toLowerCase());
  if (needles.length === 0) return;
  const check = (text: string, where: string): void => {
    const t = text.toLowerCase();
    if (needles.some((n) => containsSecret(t, n))) {
      throw new KeyriteError('TRANSCRIPT_SECRET_LEAK', `Event ${e.seq} (${e.type}) would record a secret in ${where}. Keyrite refuses to write it: events carry evidence, never secrets.`, { details: { seq: e.seq, type: e.type, field: where } });
    }
  };
  const visit = (value: unknown, path: string): void => {
    if (typeof value === 'string') check(value, path);
    else if (typeof value === 'number' || typeof value === 'boolean') check(String(value), path);
    else if (Array.isArray(value)) value.forEach((item, i) => visit(item, `${path}[${i}]`));
    else if (value !== null && typeof value === 'object') {
      for (const [k, v] of Object.entries(value)) {
        check(k, `a field name in ${path}`);
        visit(v, `${path}.${k}`);
      }
    }
  };
  visit(e.data, 'data');
  visit(e.step, 'step');
  visit(e.actor, 'actor');
  visit(e.ceremony, 'ceremony');
}
