import { createPublicKey, createHash } from 'node:crypto';
import { existsSync, mkdirSync, promises as fs, readdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { KeyriteError } from '../errors';
import { writeFileAtomic } from '../fs/atomic-write';
import { BUNDLE_FILES, type TranscriptEvent } from './event-types';
import { transcriptText } from './event';
import { renderTranscriptHtml } from './html';
import { checkSealedChain, parseTranscript } from './parse';
import { hexToPgpWords } from './pgp-words';
import { verifyTranscriptSignature } from './signature-check';
import { formatSha256Sums, listBundleFiles, sha256File } from './sha256sums';
import type { TranscriptSigner } from './transcript-key';

export interface SealResult {
  finalHash: string;
  finalHashWords: string[];
  keyFingerprintWords: string[];
  /** Every file of the bundle, relative, sorted (SHA256SUMS last). */
  files: string[];
}

/** The signed seal of a transcript: what the engine commits with CEREMONY_SEALED before any bundle file exists. */
export interface SignedTranscript {
  finalHash: string;
  /** DER ECDSA-SHA384 signature over transcript.jsonl. */
  signature: Buffer;
  publicKeyPem: string;
  spkiSha256: string;
}

/**
 * Sign a sealed transcript (its last event is CEREMONY_SEALED) with the ceremony's transcript
 * key, after checking the chain exactly as verify will read it back, that the signer is the key
 * TRANSCRIPT_KEY_CREATED recorded, and — outside the HSM — that the signature verifies. Nothing
 * is written: the caller commits the result, then writes the bundle with writeSealedBundle (passing
 * `transcript`, the bytes signed, so they are not serialized again).
 */
export async function signTranscript(events: readonly TranscriptEvent[], signer: TranscriptSigner): Promise<SignedTranscript & { transcript: Buffer }> {
  const last = events[events.length - 1];
  if (!last || last.type !== 'CEREMONY_SEALED') throw notSealed(last);
  const { events: _parsed, ...signed } = await signTranscriptText(transcriptText(events), signer);
  return signed;
}

/**
 * signTranscript for a transcript given as its text (every line followed by '\n'), such as the
 * lines a ceremony's store holds plus the events not yet committed: the lines are signed as they
 * are, after the same checks (each line canonical, hashed and linked, the chain sealed). Returns the
 * events read from the text too.
 */
export async function signTranscriptText(text: string, signer: TranscriptSigner): Promise<SignedTranscript & { transcript: Buffer; events: TranscriptEvent[] }> {
  const events = parseTranscript(text);
  const last = events[events.length - 1];
  if (!last || last.type !== 'CEREMONY_SEALED') throw notSealed(last);
  checkSealedChain(events);
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
  const bytes = Buffer.from(text, 'utf8');
  const signature = await signer.sign(bytes);
  checkSignature(bytes, signer.publicKeyPem, signature);
  return { finalHash: last.hash, signature, publicKeyPem: signer.publicKeyPem, spkiSha256: signer.spkiSha256, transcript: bytes, events };
}

function notSealed(last: TranscriptEvent | undefined): KeyriteError {
  return new KeyriteError('TRANSCRIPT_NOT_SEALED', `The transcript cannot be sealed: its last event must be CEREMONY_SEALED, not ${last ? last.type : 'nothing'}.`, { details: { seq: last?.seq ?? 0 } });
}

function checkSignature(bytes: Buffer, publicKeyPem: string, signature: Buffer): void {
  // Check the HSM's signature outside the HSM before anyone relies on it. The seal signs, then
  // writes the bundle from the stored record and verifies the bundle: the same bytes, key and
  // signature each time, so only the first check of that exact triple is done (signature-check.ts).
  if (!verifyTranscriptSignature(bytes, createPublicKey(publicKeyPem), signature)) {
    throw new KeyriteError('TRANSCRIPT_SIGNATURE_INVALID', 'The HSM returned a transcript signature that does not verify with the transcript key. Nothing was sealed; check the token and retry.');
  }
}

/** What writeSealedBundle did: the files it wrote now (empty when the bundle was already complete). */
export interface WrittenBundle extends SealResult {
  written: string[];
}

/**
 * Write the files of a signed transcript's bundle, each atomically: transcript.jsonl (the exact
 * bytes signed), transcript-key.pem, transcript.html, transcript.sig, then SHA256SUMS over every
 * file in the folder (keys/, backup/, … written earlier by the engine). Idempotent, so a seal cut
 * off by a crash is finished from the store alone (no HSM, no new event): a file already there
 * must be byte-for-byte what this seal writes (else BUNDLE_FILE_CHANGED — never overwritten), a
 * missing one is written, and leftovers of an interrupted atomic write are removed first.
 * `transcript`, when given, is transcriptText(events) as signTranscript returned it for these very
 * events (the seal writes what it just signed); otherwise it is serialized here.
 */
export async function writeSealedBundle(opts: { dir: string; events: readonly TranscriptEvent[]; seal: SignedTranscript; transcript?: Buffer }): Promise<WrittenBundle> {
  const { dir, events, seal } = opts;
  const last = events[events.length - 1];
  if (!last || last.type !== 'CEREMONY_SEALED' || last.hash !== seal.finalHash) {
    throw new KeyriteError('TRANSCRIPT_NOT_SEALED', `The seal record (final hash ${seal.finalHash.slice(0, 16)}…) does not end this transcript (last event ${last ? `${last.seq} ${last.type}` : 'none'}).`, { details: { seq: last?.seq ?? 0 } });
  }
  const bytes = opts.transcript ?? Buffer.from(transcriptText(events), 'utf8');
  checkSignature(bytes, seal.publicKeyPem, seal.signature);
  mkdirSync(dir, { recursive: true });
  removeInterruptedWrites(dir);
  const written: string[] = [];
  // What this seal's own files hold: the bytes just written or found equal to them (SHA256SUMS is
  // computed from these rather than by reading them back; verifyBundle reads the whole bundle next).
  const own = new Map<string, Buffer>();
  const put = async (name: string, data: Buffer | string): Promise<void> => {
    const file = path.join(dir, name);
    const want = Buffer.isBuffer(data) ? data : Buffer.from(data, 'utf8');
    own.set(name, want);
    if (existsSync(file)) {
      if (!(await fs.readFile(file)).equals(want)) throw changedFile(dir, name);
      return;
    }
    try {
      await writeFileAtomic(file, want, { exclusive: true });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'EEXIST') throw changedFile(dir, name);
      throw e;
    }
    written.push(name);
  };
  await put(BUNDLE_FILES.transcript, bytes);
  await put(BUNDLE_FILES.key, seal.publicKeyPem.endsWith('\n') ? seal.publicKeyPem : seal.publicKeyPem + '\n');
  await put(BUNDLE_FILES.html, renderTranscriptHtml([...events], { finalHash: seal.finalHash, keySpkiSha256: seal.spkiSha256 }));
  await put(BUNDLE_FILES.signature, seal.signature);

  const listed = (await listBundleFiles(dir)).filter((f) => f !== BUNDLE_FILES.sums);
  const entries = [];
  for (const f of listed) {
    const bytes = own.get(f);
    entries.push({ file: f, sha256: bytes ? createHash('sha256').update(bytes).digest('hex') : sha256File(path.join(dir, f)) });
  }
  await put(BUNDLE_FILES.sums, formatSha256Sums(entries));
  return {
    finalHash: seal.finalHash,
    finalHashWords: hexToPgpWords(seal.finalHash),
    keyFingerprintWords: hexToPgpWords(seal.spkiSha256),
    files: [...listed, BUNDLE_FILES.sums],
    written,
  };
}

/**
 * `.name.keyrite-tmp-…` files are Keyrite's own half-written files (see atomic-write.ts): never part
 * of a bundle. Synchronous, like the rest of the bundle's metadata work: only fsyncs are worth a
 * trip through libuv's thread pool.
 */
function removeInterruptedWrites(dir: string): void {
  const entries = readdirSync(dir, { withFileTypes: true, recursive: true });
  for (const e of entries) {
    if (e.isFile() && /^\..+\.keyrite-tmp-[0-9a-f]+$/.test(e.name)) rmSync(path.join(e.parentPath ?? dir, e.name), { force: true });
  }
}

function changedFile(dir: string, name: string): KeyriteError {
  return new KeyriteError('BUNDLE_FILE_CHANGED', `'${name}' in the bundle '${dir}' is not the file this ceremony's seal wrote. Keyrite never overwrites a bundle file: move the folder's stray content away, then resume to write the bundle again.`, { details: { file: name, dir } });
}

/**
 * Seal a bundle in one go (sign, then write): for transcripts that are not a ceremony in the
 * store (tests, benchmarks). A bundle is sealed once: an existing transcript.sig is never replaced.
 */
export async function sealBundle(opts: { dir: string; events: TranscriptEvent[]; signer: TranscriptSigner }): Promise<SealResult> {
  const { dir, events, signer } = opts;
  if (existsSync(path.join(dir, BUNDLE_FILES.signature)) || existsSync(path.join(dir, BUNDLE_FILES.sums))) throw alreadySealed(dir);
  const { transcript, ...seal } = await signTranscript(events, signer);
  if (existsSync(path.join(dir, BUNDLE_FILES.signature))) throw alreadySealed(dir);
  const { written: _written, ...result } = await writeSealedBundle({ dir, events, seal, transcript });
  return result;
}

function alreadySealed(dir: string): KeyriteError {
  return new KeyriteError('TRANSCRIPT_ALREADY_SEALED', `The bundle '${dir}' is already sealed (it has ${BUNDLE_FILES.signature}). A sealed bundle is never written again; export to a new folder.`, { details: { dir } });
}
