import 'reflect-metadata';
import { AsnEcSignatureFormatter } from '@peculiar/x509';
import { KeyriteError } from '../errors';
import { attributeProblems, findKeyPair, generateKeyPair, readKeyAttributes, selfTest } from '../hsm/keygen';
import { parseKeyType } from '../hsm/key-spec';
import type { HsmSession } from '../hsm/session';
import { signData } from '../hsm/sign';
import { transcriptKeyLabel } from './event-types';

/** Signs the sealed transcript. The private half stays in the HSM. */
export interface TranscriptSigner {
  publicKeyPem: string;
  /** SHA-256 hex of the SPKI DER, as recorded in TRANSCRIPT_KEY_CREATED. */
  spkiSha256: string;
  /** DER-encoded ECDSA-SHA384 signature over `data`, as `openssl dgst -sha384 -verify` expects. */
  sign(data: Buffer): Promise<Buffer>;
}

export interface CreatedTranscriptKey {
  label: string;
  spkiPem: string;
  spkiSha256: string;
}

const CEREMONY_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/;

function labelFor(ceremonyId: string): string {
  if (!CEREMONY_ID.test(ceremonyId)) {
    throw new KeyriteError('TRANSCRIPT_CEREMONY_ID_INVALID', `The ceremony id '${ceremonyId}' cannot name a transcript key: use 1-100 letters, digits, '.', '_' or '-', starting with a letter or digit.`, { details: { ceremonyId } });
  }
  return transcriptKeyLabel(ceremonyId);
}

/**
 * Generate the ceremony's transcript key: EC P-384, sign only, non-extractable, so it can never
 * be wrapped or backed up (key separation: it signs transcripts and nothing else). Refuses when
 * the label exists; on resume the caller looks the key up with hsmTranscriptSigner instead.
 */
export function createTranscriptKey(session: HsmSession, ceremonyId: string): CreatedTranscriptKey {
  const label = labelFor(ceremonyId);
  if (session.find({ label }).length > 0) {
    throw new KeyriteError('TRANSCRIPT_KEY_EXISTS', `Token '${session.token.label}' already holds a transcript key '${label}'. A ceremony has exactly one transcript key: resume the ceremony to use it, or start a ceremony with a new id.`, { details: { label } });
  }
  const key = generateKeyPair(session, { spec: parseKeyType('ec-p384'), label, wrappable: false });
  selfTest(session, key);
  return {
    label,
    spkiPem: key.publicInfo.keyObject.export({ type: 'spki', format: 'pem' }).toString(),
    spkiSha256: key.publicInfo.fingerprint,
  };
}

/**
 * The transcript key a ceremony announced (recorded that it was about to make) but did not get to
 * record, because the process died in between. It is adopted only if it is exactly what
 * createTranscriptKey makes: a complete pair, EC P-384, sign-only, sensitive, generated in the
 * token and never extractable, whose private half signs what its public half verifies. Half a pair
 * (a crash inside key generation) was never usable by anyone: it is destroyed and null returned,
 * so the caller makes the key afresh. Anything else is reported, and neither used nor destroyed.
 */
export function adoptTranscriptKey(session: HsmSession, ceremonyId: string): CreatedTranscriptKey | null {
  const label = labelFor(ceremonyId);
  const publics = session.find({ class: 'public', label });
  const privates = session.find({ class: 'private', label });
  const all = session.find({ label });
  if (all.length !== publics.length + privates.length || publics.length > 1 || privates.length > 1) {
    throw notExactlyRight(session, label, `${all.length} object(s) carry its label, not one key pair`);
  }
  if (all.length === 0) return null;
  if (publics.length === 0 || privates.length === 0) {
    for (const h of all) session.destroy(h);
    return null;
  }
  const pair = findKeyPair(session, label);
  if (pair.publicInfo.algorithm !== 'ec' || pair.publicInfo.curve !== 'P-384') throw notExactlyRight(session, label, 'it is not an EC P-384 key');
  const problems = attributeProblems(readKeyAttributes(session, pair.privateKey, pair.publicKey), { wrappable: false });
  if (problems.length > 0) throw notExactlyRight(session, label, problems.join('; '));
  try {
    selfTest(session, pair);
  } catch (cause) {
    throw notExactlyRight(session, label, `its private half does not sign for its public half (${(cause as Error).message})`);
  }
  return { label, spkiPem: pair.publicInfo.keyObject.export({ type: 'spki', format: 'pem' }).toString(), spkiSha256: pair.publicInfo.fingerprint };
}

function notExactlyRight(session: HsmSession, label: string, why: string): KeyriteError {
  return new KeyriteError('TRANSCRIPT_KEY_INVALID', `Token '${session.token.label}' holds a transcript key '${label}' that this ceremony announced but cannot adopt: ${why}. Keyrite neither uses nor deletes it; have the security officer examine the token before resuming.`, { details: { label } });
}

/** The transcript key of a ceremony, found by label, checked to still be a sign-only P-384 key. */
export function hsmTranscriptSigner(session: HsmSession, ceremonyId: string): TranscriptSigner {
  const label = labelFor(ceremonyId);
  let pair;
  try {
    pair = findKeyPair(session, label);
  } catch (cause) {
    throw new KeyriteError('TRANSCRIPT_KEY_NOT_FOUND', `Token '${session.token.label}' holds no usable transcript key '${label}' (is the user logged in, and is this the token the ceremony started on?).`, { details: { label }, cause });
  }
  if (pair.publicInfo.algorithm !== 'ec' || pair.publicInfo.curve !== 'P-384') {
    throw new KeyriteError('TRANSCRIPT_KEY_INVALID', `The key '${label}' is not an EC P-384 key, so it is not a Keyrite transcript key.`, { details: { label } });
  }
  const attributes = readKeyAttributes(session, pair.privateKey, pair.publicKey);
  if (attributes.extractable || !attributes.sensitive || !attributes.sign || attributes.decrypt || attributes.unwrap || attributes.derive) {
    throw new KeyriteError('TRANSCRIPT_KEY_INVALID', `The key '${label}' is not a sign-only, non-extractable key; Keyrite will not sign a transcript with it.`, { details: { label, attributes } });
  }
  const formatter = new AsnEcSignatureFormatter();
  return {
    publicKeyPem: pair.publicInfo.keyObject.export({ type: 'spki', format: 'pem' }).toString(),
    spkiSha256: pair.publicInfo.fingerprint,
    async sign(data: Buffer): Promise<Buffer> {
      const raw = signData(session, pair.privateKey, { scheme: 'ecdsa', hash: 'SHA-384' }, data).signature;
      // CKM_ECDSA gives r||s; openssl and X.509 want the DER SEQUENCE { r INTEGER, s INTEGER }.
      const der = formatter.toAsnSignature({ name: 'ECDSA', namedCurve: 'P-384' } as Parameters<AsnEcSignatureFormatter['toAsnSignature']>[0], raw);
      if (!der) throw new KeyriteError('TRANSCRIPT_SIGNATURE_ENCODING', 'Keyrite could not encode the transcript signature as DER.');
      return Buffer.from(der);
    },
  };
}
