import { createHash } from 'node:crypto';
import * as openpgp from 'openpgp';
import { KeyriteError } from '../errors';
import { groupHex, hexToPgpWords } from '../transcript/pgp-words';

/**
 * A custodian's OpenPGP public key, enrolled at check-in so their share is sealed to it instead
 * of being shown (the way Vault/OpenBao hand out unseal keys with `pgp_keys`). Only the public
 * key is ever in Keyrite; the custodian decrypts on their own device (a card, `gpg --decrypt`).
 */
export interface OpenPgpRecipient {
  /** v4/v6 fingerprint, upper-case hex: what the transcript records and the custodian confirms. */
  fingerprint: string;
  /** The fingerprint in groups of four, to read along. */
  fingerprintGroups: string;
  /** The fingerprint as PGP words, to read aloud. */
  fingerprintWords: string[];
  /** The user ids on the key, as the custodian's software shows them. */
  userIds: string[];
  /** e.g. "rsa 4096", "curve25519", "nistp384". */
  algorithm: string;
  /** ISO time the key (or its encryption subkey) expires, or null if it does not. */
  expires: string | null;
  /** The armored public key, kept so the share can be encrypted at hand-out. */
  armored: string;
}

/** RSA below 2048 bits is refused (NIST SP 800-131A disallows it); OpenPGP cards make 2048 to 4096. */
const MIN_RSA_BITS = 2048;
/** Largest armored key accepted: a real key with a few subkeys and signatures is a few KB. */
const MAX_ARMORED_BYTES = 64 * 1024;

function refuse(code: 'OPENPGP_KEY_INVALID' | 'OPENPGP_KEY_WEAK' | 'OPENPGP_KEY_EXPIRED' | 'OPENPGP_KEY_NO_ENCRYPTION' | 'OPENPGP_KEY_PRIVATE', message: string, details: Record<string, unknown> = {}): KeyriteError {
  return new KeyriteError(code, message, { details });
}

/**
 * Reads and checks a custodian's armored public key. Refuses (with a sentence the custodian can
 * act on) a private key, a key that cannot encrypt, a weak, expired or revoked key.
 */
export async function enrolOpenPgpKey(armored: string, now: Date = new Date()): Promise<OpenPgpRecipient> {
  if (Buffer.byteLength(armored, 'utf8') > MAX_ARMORED_BYTES) throw refuse('OPENPGP_KEY_INVALID', `That is not an OpenPGP public key: it is larger than ${MAX_ARMORED_BYTES / 1024} KB. Export only the public key (gpg --export --armor KEYID).`);
  if (/-----BEGIN PGP PRIVATE KEY BLOCK-----/.test(armored)) {
    throw refuse('OPENPGP_KEY_PRIVATE', 'This is a PRIVATE key. Never hand Keyrite (or anyone) a private key: export the public key only (gpg --export --armor KEYID), and consider this private key exposed.');
  }
  let key: openpgp.Key;
  try {
    key = await openpgp.readKey({ armoredKey: armored });
  } catch (e) {
    throw refuse('OPENPGP_KEY_INVALID', `That is not an armored OpenPGP public key (${(e as Error).message.replace(/\s+/g, ' ').slice(0, 120)}). Export it with gpg --export --armor KEYID.`);
  }
  if (key.isPrivate()) throw refuse('OPENPGP_KEY_PRIVATE', 'This is a PRIVATE key. Export the public key only (gpg --export --armor KEYID), and consider this private key exposed.');
  const fingerprint = key.getFingerprint().toUpperCase();
  try {
    await key.verifyPrimaryKey(now);
  } catch (e) {
    const why = (e as Error).message;
    if (/expired/i.test(why)) throw refuse('OPENPGP_KEY_EXPIRED', `The OpenPGP key ${groupHex(fingerprint)} has expired. Extend its expiry (gpg --quick-set-expire) or bring another key.`, { fingerprint });
    throw refuse('OPENPGP_KEY_INVALID', `The OpenPGP key ${groupHex(fingerprint)} cannot be used: ${why}. Bring a valid, unrevoked key.`, { fingerprint });
  }
  // Before the encryption-key lookup, which itself skips weak subkeys and would say "no encryption key".
  for (const part of [key, ...key.getSubkeys()]) {
    const info = part.getAlgorithmInfo();
    if (info.algorithm.startsWith('rsa') && (info.bits ?? 0) < MIN_RSA_BITS) {
      throw refuse('OPENPGP_KEY_WEAK', `The OpenPGP key ${groupHex(fingerprint)} uses RSA-${info.bits}, weaker than RSA-${MIN_RSA_BITS}. Bring an RSA-${MIN_RSA_BITS}+ or elliptic-curve key.`, { fingerprint, bits: info.bits });
    }
    if (info.algorithm === 'dsa' || info.algorithm === 'elgamal') {
      throw refuse('OPENPGP_KEY_WEAK', `The OpenPGP key ${groupHex(fingerprint)} uses ${info.algorithm.toUpperCase()}, which Keyrite does not accept. Bring an RSA-${MIN_RSA_BITS}+ or elliptic-curve key.`, { fingerprint });
    }
  }
  let encryptionKey: openpgp.Key | openpgp.Subkey;
  try {
    encryptionKey = await key.getEncryptionKey(undefined, now);
  } catch {
    throw refuse('OPENPGP_KEY_NO_ENCRYPTION', `The OpenPGP key ${groupHex(fingerprint)} has no valid encryption subkey (expired, revoked, or signing only). Add an encryption subkey or bring another key.`, { fingerprint });
  }
  const primaryExpiry = await key.getExpirationTime();
  const subExpiry = 'getExpirationTime' in encryptionKey && encryptionKey !== key ? await (encryptionKey as openpgp.Subkey).getExpirationTime() : primaryExpiry;
  const expiries = [primaryExpiry, subExpiry].filter((d): d is Date => d instanceof Date);
  const info = encryptionKey.getAlgorithmInfo();
  return {
    fingerprint,
    fingerprintGroups: groupHex(fingerprint),
    fingerprintWords: hexToPgpWords(fingerprint),
    userIds: key.getUserIDs(),
    algorithm: info.bits ? `${info.algorithm.replace(/EncryptSign|Encrypt$/, '')} ${info.bits}` : String(info.curve ?? info.algorithm),
    expires: expiries.length ? new Date(Math.min(...expiries.map((d) => d.getTime()))).toISOString() : null,
    armored: key.armor(),
  };
}

/** Refuses one key for two custodians: each share must need its own holder to open it. */
export function assertDistinctRecipients(recipients: ReadonlyArray<{ custodian: string; fingerprint: string }>): void {
  const seen = new Map<string, string>();
  for (const r of recipients) {
    const other = seen.get(r.fingerprint);
    if (other !== undefined) {
      throw new KeyriteError('OPENPGP_KEY_REUSED', `${r.custodian} presented the same OpenPGP key (${groupHex(r.fingerprint)}) as ${other}. Each custodian needs their own key, or one person could open two shares.`, { details: { fingerprint: r.fingerprint } });
    }
    seen.set(r.fingerprint, r.custodian);
  }
}

export interface SealedShare {
  /** ASCII-armored OpenPGP message; only the recipient's private key opens it. */
  armored: string;
  /** SHA-256 of the armored file's bytes: what the transcript and the card record. */
  sha256: string;
  recipientFingerprint: string;
}

/**
 * Encrypts a share's text (the same header + 33 words a custodian would have copied, so one
 * format and one decoder) to the custodian's key. The plaintext is not signed: the share's own
 * checksum and the per-share digest in the backup file are what prove it at recovery.
 */
export async function sealShareToRecipient(shareText: string, recipient: OpenPgpRecipient): Promise<SealedShare> {
  const key = await openpgp.readKey({ armoredKey: recipient.armored });
  const armored = (await openpgp.encrypt({ message: await openpgp.createMessage({ text: shareText }), encryptionKeys: key, format: 'armored' })) as string;
  return { armored, sha256: createHash('sha256').update(armored).digest('hex'), recipientFingerprint: recipient.fingerprint };
}
