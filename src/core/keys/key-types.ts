/**
 * The one home of how Keyrite writes, reads and prints key types and key ids. Everything else
 * (the HSM's key specs, the policy rules, the inventory, x509, backups, ceremony parameters)
 * calls these instead of restating a pattern; test/unit/key-types.test.ts fails when a
 * restatement appears elsewhere in src/.
 *
 * A key type is written `rsa-3072`, `ec-p384`, `aes-256` (any case; `rsa3072`, `p-384`,
 * `secp384r1`, `prime256v1` are read too). A key id is `<tag>-<year>-<nn>`: `ecp384-2026-01`.
 */

/** A key type as read, before anyone judges it: rsa-1024 and ec-p192 parse, so the policy can refuse them by rule. */
export type ParsedKeyType =
  | { algorithm: 'rsa'; bits: number }
  | { algorithm: 'ec'; curve: string; bits: number }
  | { algorithm: 'aes'; bits: number };

const RSA = /^rsa-?(\d+)$/;
const EC = /^(?:ec-?)?(?:p-?|secp|prime)(\d+)(?:r1|v1)?$/;
const AES = /^aes-?(\d+)$/;

/** Read a key type in any of its spellings; undefined when it is not one. */
export function readKeyType(input: string): ParsedKeyType | undefined {
  const t = input.trim().toLowerCase();
  const rsa = RSA.exec(t);
  if (rsa) return { algorithm: 'rsa', bits: Number(rsa[1]) };
  const ec = EC.exec(t);
  if (ec) return { algorithm: 'ec', curve: `P-${Number(ec[1])}`, bits: Number(ec[1]) };
  const aes = AES.exec(t);
  if (aes) return { algorithm: 'aes', bits: Number(aes[1]) };
  return undefined;
}

/** The canonical written form: 'rsa-3072', 'ec-p384', 'aes-256'. */
export function keyTypeName(key: { algorithm: string; bits: number }): string {
  return key.algorithm === 'ec' ? `ec-p${key.bits}` : `${key.algorithm}-${key.bits}`;
}

/** How messages name a key type: 'RSA-3072', 'EC P-384', 'AES-256'. */
export function describeKeyType(key: { algorithm: string; bits: number }): string {
  return key.algorithm === 'ec' ? `EC P-${key.bits}` : `${key.algorithm.toUpperCase()}-${key.bits}`;
}

/** The tag a key id starts with: 'ec-p384' → 'ecp384', 'rsa-4096' → 'rsa4096'. */
export function keyIdTag(key: { algorithm: string; bits: number }): string {
  return keyTypeName(key).replace('-', '');
}

/** `<tag>-<year>-<nn>`, e.g. ecp384-2026-01: groups are the tag, the year and the number. */
export const KEY_ID_RE = /^((?:rsa|ecp)\d+)-(\d{4})-(\d{2,})$/;
export const KEY_ID_EXAMPLE = 'ecp384-2026-01';

export function isKeyId(s: string): boolean {
  return KEY_ID_RE.test(s);
}

/**
 * What a backup file accepts as its key id: any name that is safe as a file name
 * (backup/<key-id>.backup.json), so a backup of a key named outside the inventory still reads.
 */
export const BACKUP_KEY_ID_RE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

/** A key id from its parts: ('ecp384', 2026, 1) → 'ecp384-2026-01'. */
export function formatKeyId(tag: string, year: number, n: number): string {
  return `${tag}-${year}-${String(n).padStart(2, '0')}`;
}
