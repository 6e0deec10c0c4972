import { KeyriteError } from '../errors';
import { parsePolicyKeyType } from '../policy';

/** `<alg><bits>-<year>-<nn>`, e.g. ecp384-2026-01: the tag, the year and the number. */
export const KEY_ID_RE = /^((?:rsa|ecp)\d+)-(\d{4})-(\d{2,})$/;

/** The key id tag for a key type: 'ec-p384' → 'ecp384', 'rsa-4096' → 'rsa4096'. */
export function keyIdTagFor(type: string): string {
  const parsed = parsePolicyKeyType(type);
  if (!parsed) throw new KeyriteError('KEY_TYPE_UNKNOWN', `'${type}' is not a key type Keyrite knows. Write it as rsa-3072 or ec-p384.`, { details: { type } });
  return parsed.algorithm === 'ec' ? `ecp${parsed.bits}` : `${parsed.algorithm}${parsed.bits}`;
}

/** The policy key type of an inventory row: 'rsa-3072', 'ec-p384'. */
export function inventoryKeyType(key: { algorithm: string; size: number; curve: string | null }): string {
  if (key.algorithm === 'ec') return `ec-p${key.curve ? key.curve.replace(/^P-/i, '') : key.size}`;
  return `${key.algorithm}-${key.size}`;
}
