import { createPublicKey, createHash, verify as nodeVerify } from 'node:crypto';
import { existsSync, promises as fs } from 'node:fs';
import path from 'node:path';
import { KeyriteError } from '../errors';
import { writeFileAtomic } from '../fs/atomic-write';
import { BUNDLE_FILES, type TranscriptEvent } from './event-types';
import { transcriptText } from './event';
import { renderTranscriptHtml } from './html';
import { checkSealedChain, parseTranscript } from './parse';
import { hexToPgpWords } from './pgp-words';
import { formatSha256Sums, listBundleFiles, sha256File } from './sha256sums';
import type { TranscriptSigner } from './transcript-key';

export interface SealResult {
  finalHash: string;
  finalHashWords: string[];
  keyFingerprintWords: string[];
  /** Every file of the bundle, relative, sorted (SHA256SUMS last). */
  files: string[];
}

/**
 * Seal a ceremony's bundle: transcript.jsonl (the exact bytes hashed and signed),
 * transcript.sig, transcript-key.pem, transcript.html, then SHA256SUMS over every file already in
 * the folder (keys/, backup/, … written earlier by the engine). Each file is written atomically.
 * A bundle is sealed once: an existing transcript.sig is never replaced.
 */
export async function sealBundle(opts: { dir: string; events: TranscriptEvent[]; signer: TranscriptSigner }): Promise<SealResult> {
  const { dir, events, signer } = opts;
  const file = (name: string): string => path.join(dir, name);
  if (existsSync(file(BUNDLE_FILES.signature)) || existsSync(file(BUNDLE_FILES.sums))) throw alreadySealed(dir);
  const last = events[events.length - 1];
  if (!last || last.type !== 'CEREMONY_SEALED') {
    throw new KeyriteError('TRANSCRIPT_NOT_SEALED', `The transcript cannot be sealed: its last event must be CEREMONY_SEALED, not ${last ? last.type : 'nothing'}.`, { details: { seq: last?.seq ?? 0 } });
  }
  // Re-check what we are about to sign exactly as verify will read it back.
  const text = transcriptText(events);
  checkSealedChain(parseTranscript(text));
  const keyEvent = events.find((e) => e.type === 'TRANSCRIPT_KEY_CREATED');
  if (!keyEvent || keyEvent.data.spkiSha256 !== signer.spkiSha256) {
    throw new KeyriteError('TRANSCRIPT_KEY_MISMATCH', keyEvent
      ? `The signing key (SPKI SHA-256 ${signer.spkiSha256}) is not the transcript key recorded in event ${keyEvent.seq} (${String(keyEvent.data.spkiSha256)}). Keyrite seals a transcript only with its own ceremony's key.`
      : 'The transcript records no TRANSCRIPT_KEY_CREATED event, so Keyrite cannot tell which key may seal it.', { details: { seq: keyEvent?.seq ?? null } });
  }
  const spkiDer = createPublicKey(signer.publicKeyPem).export({ type: 'spki', format: 'der' });
  if (createHash('sha256').update(spkiDer).digest('hex') !== signer.spkiSha256) {
    throw new KeyriteError('TRANSCRIPT_KEY_MISMATCH', "The signer's public key does not match its own fingerprint.");
  }

  await fs.mkdir(dir, { recursive: true });
  const bytes = Buffer.from(text, 'utf8');
  const signature = await signer.sign(bytes);
  // Check the HSM's signature outside the HSM before anyone relies on it.
  if (!nodeVerify('sha384', bytes, { key: signer.publicKeyPem, dsaEncoding: 'der' }, signature)) {
    throw new KeyriteError('TRANSCRIPT_SIGNATURE_INVALID', 'The HSM returned a transcript signature that does not verify with the transcript key. Nothing was sealed; check the token and retry.');
  }
  const finalHash = last.hash;
  await writeFileAtomic(file(BUNDLE_FILES.transcript), bytes);
  await writeFileAtomic(file(BUNDLE_FILES.key), signer.publicKeyPem.endsWith('\n') ? signer.publicKeyPem : signer.publicKeyPem + '\n');
  await writeFileAtomic(file(BUNDLE_FILES.html), renderTranscriptHtml(events, { finalHash, keySpkiSha256: signer.spkiSha256 }));
  try {
    await writeFileAtomic(file(BUNDLE_FILES.signature), signature, { exclusive: true });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') throw alreadySealed(dir);
    throw e;
  }

  const listed = (await listBundleFiles(dir)).filter((f) => f !== BUNDLE_FILES.sums);
  const entries = [];
  for (const f of listed) entries.push({ file: f, sha256: await sha256File(path.join(dir, f)) });
  await writeFileAtomic(file(BUNDLE_FILES.sums), formatSha256Sums(entries), { exclusive: true });
  return {
    finalHash,
    finalHashWords: hexToPgpWords(finalHash),
    keyFingerprintWords: hexToPgpWords(signer.spkiSha256),
    files: [...listed, BUNDLE_FILES.sums],
  };
}

function alreadySealed(dir: string): KeyriteError {
  return new KeyriteError('TRANSCRIPT_ALREADY_SEALED', `The bundle '${dir}' is already sealed (it has ${BUNDLE_FILES.signature}). A sealed bundle is never written again; export to a new folder.`, { details: { dir } });
}
