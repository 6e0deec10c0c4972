import { createHash, createPublicKey, verify as nodeVerify, type KeyObject } from 'node:crypto';
import { promises as fs, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { KeyriteError } from '../errors';
import { BUNDLE_FILES } from './event-types';
import type { LayoutEvent } from './layout-event';
import { checkLines, LineWorkers, workerCount, type CheckedLines } from './line-pool';
import { checkSealedChain } from './parse';
import { writeTranscriptHtml, TRANSCRIPT_HTML_FORMAT, TRANSCRIPT_HTML_FORMATS } from './html';
import { StreamingByteCompare } from './byte-compare';
import { hexToPgpWords } from './pgp-words';
import { verifiedBefore } from './signature-check';
import { checkBundlePath, listBundleFiles, parseSha256Sums } from './sha256sums';
import { summarizeTranscript, type KeySummary, type TranscriptSummary } from './summary';
import { withTamperAdvice } from './tamper-advice';

export interface VerifyReport {
  ok: true;
  ceremony: string;
  title: string;
  startedAt: string;
  sealedAt: string;
  outcome: 'sealed' | 'aborted';
  demo: boolean;
  participants: { personId: string; name: string; roles: string[] }[];
  keys: KeySummary[];
  events: number;
  finalHash: string;
  finalHashWords: string[];
  transcriptKeySpkiSha256: string;
  transcriptKeyWords: string[];
  /** Files checked against SHA256SUMS (SHA256SUMS itself excluded). */
  files: string[];
}

const missing = (file: string): KeyriteError =>
  new KeyriteError('BUNDLE_FILE_MISSING', `The bundle has no '${file}'. Copy the complete bundle folder from the ceremony's export medium.`, { details: { file } });

/**
 * Check a sealed bundle offline, in this order, stopping at the first problem: every event's
 * hash, seq and chain link; the sealed shape of the chain; the transcript key against the
 * fingerprint recorded in TRANSCRIPT_KEY_CREATED; the signature; every file against SHA256SUMS,
 * and that no file is unlisted.
 */
export async function verifyBundle(dir: string, options: VerifyOptions = {}): Promise<VerifyReport> {
  try {
    return await checkBundle(dir, options);
  } catch (e) {
    // A bundle that fails says what to do next (which file, keep the evidence, whom to call).
    throw withTamperAdvice(e, dir);
  }
}

export interface VerifyOptions {
  /** Worker threads for the per-line checks: 0 checks on this thread; default by size and cores. */
  workers?: number;
}

async function checkBundle(dir: string, options: VerifyOptions): Promise<VerifyReport> {
  let stat;
  try {
    stat = statSync(dir);
  } catch {
    throw new KeyriteError('BUNDLE_NOT_FOUND', `There is no bundle folder '${dir}'.`, { details: { dir } });
  }
  if (!stat.isDirectory()) throw new KeyriteError('BUNDLE_NOT_FOUND', `'${dir}' is not a folder; pass the bundle folder (the one holding transcript.jsonl).`, { details: { dir } });
  const present = await listBundleFiles(dir);
  if (present.length === 0) throw new KeyriteError('BUNDLE_EMPTY', `The bundle folder '${dir}' is empty: there is nothing to verify.`, { details: { dir } });
  const has = new Set(present);
  if (!has.has(BUNDLE_FILES.transcript)) throw missing(BUNDLE_FILES.transcript);
  if (!has.has(BUNDLE_FILES.signature)) {
    throw new KeyriteError('TRANSCRIPT_NOT_SEALED', `The bundle has a transcript but no '${BUNDLE_FILES.signature}': the ceremony was never sealed, or the signature was removed.`, { details: { file: BUNDLE_FILES.signature } });
  }
  for (const f of [BUNDLE_FILES.key, BUNDLE_FILES.sums]) if (!has.has(f)) throw missing(f);

  const transcriptFile = path.join(dir, BUNDLE_FILES.transcript);
  // Worker threads start first, so their start-up overlaps reading the files.
  const workers = LineWorkers.start(workerCount(statSync(transcriptFile).size, options.workers));
  // With no worker threads nothing runs while this thread waits, so every file is read here, in
  // one go: an asynchronous read is several trips through libuv's pool (open, stat, read, close),
  // each costing more CPU than reading a bundle's small file (issue #18). With workers, reads
  // overlap the line checks.
  const read: (file: string) => Settled<Buffer> = workers ? (file) => settle(() => fs.readFile(file)) : (file) => Promise.resolve(settleNow(() => readFileSync(file)));
  try {
    // Read once (with workers into shared memory: they check the lines in place, nothing is copied).
    const bytes = workers ? await readShared(transcriptFile) : readFileSync(transcriptFile);
    // With workers, transcript.html is read (on libuv's thread pool) while the lines are checked:
    // only this thread reads it, for its SHA-256 and the final comparison.
    const htmlRead = has.has(BUNDLE_FILES.html) ? read(path.join(dir, BUNDLE_FILES.html)) : null;
    let keyPem: Buffer, signature: Buffer, sumsText: string;
    try {
      keyPem = unwrap(await read(path.join(dir, BUNDLE_FILES.key)));
      signature = unwrap(await read(path.join(dir, BUNDLE_FILES.signature)));
      sumsText = unwrap(await read(path.join(dir, BUNDLE_FILES.sums))).toString('utf8');
    } catch (e) {
      // transcript.html was read before these: its failure, if any, is the one to report.
      if (htmlRead) unwrap(await htmlRead);
      throw e;
    }
    const small = new Map<string, Settled<Buffer>>();
    for (const f of present) {
      if (f !== BUNDLE_FILES.sums && f !== BUNDLE_FILES.transcript && f !== BUNDLE_FILES.html) small.set(f, read(path.join(dir, f)));
    }
    // The whole-file work overlaps the line checks: the SHA-384 signature check on the thread
    // pool (unless this process verified exactly this triple already: the seal, a moment ago);
    // the transcript's SHA-256 here before this thread takes its share of the lines (done when
    // checkLines returns), transcript.html's after, while the workers finish theirs.
    // Failures are reported later, in order.
    const keyResult = settleNow(() => readTranscriptKey(keyPem));
    const key = keyResult.value;
    const signatureOk = key ? (verifiedBefore(bytes, key, signature) ? Promise.resolve(true) : verifySignature(bytes, key, signature)) : Promise.resolve(false);
    const digests = new Map<string, { value?: string; error?: unknown }>();
    const lines = checkLines(bytes, workers, () => digests.set(BUNDLE_FILES.transcript, { value: sha256Hex(bytes) }));
    lines.catch(() => undefined); // awaited below; not an unhandled rejection meanwhile
    // A transcript.html that cannot be read is reported before the lines, as when it was read first.
    const html = htmlRead ? unwrap(await htmlRead) : null;
    if (html) digests.set(BUNDLE_FILES.html, { value: sha256Hex(html) });
    const checked = await lines;
    for (const [f, read] of small) {
      const r = await read;
      digests.set(f, 'error' in r ? { error: r.error } : { value: sha256Hex(r.value!) });
    }
    // Their heaps go before the main thread builds the layout (peak memory).
    workers?.close();
    return checkInOrder(present, has, checked, { keyResult, signatureOk: await signatureOk, digests, sumsText, html });
  } finally {
    workers?.close();
  }
}

interface WholeFileResults {
  keyResult: { value?: KeyObject; error?: unknown };
  signatureOk: boolean;
  digests: Map<string, { value?: string; error?: unknown }>;
  sumsText: string;
  html: Buffer | null;
}

function checkInOrder(present: string[], has: Set<string>, checked: CheckedLines, whole: WholeFileResults): VerifyReport {
  const { keyResult, signatureOk, digests, sumsText, html } = whole;
  // 1. The chain (each line's checks and links, above; here its sealed shape).
  const events = checked.events;
  checkSealedChain(events);
  const last = events[events.length - 1];

  // 2. The key is the one the chain recorded at the start of the ceremony.
  const keyEvent = events.find((e) => e.type === 'TRANSCRIPT_KEY_CREATED');
  if (!keyEvent) {
    throw new KeyriteError('TRANSCRIPT_KEY_NOT_RECORDED', 'The transcript has no TRANSCRIPT_KEY_CREATED event, so the signing key cannot be tied to the ceremony.', { details: { seq: null } });
  }
  const recorded = keyEvent.data.spkiSha256;
  for (const e of events) {
    if (e.type === 'TRANSCRIPT_KEY_CREATED' && e.data.spkiSha256 !== recorded) {
      throw new KeyriteError('TRANSCRIPT_KEY_MISMATCH', `Event ${e.seq} records a second, different transcript key; a ceremony has exactly one.`, { details: { seq: e.seq } });
    }
  }
  const key = unwrap(keyResult);
  const spkiSha256 = createHash('sha256').update(key.export({ type: 'spki', format: 'der' })).digest('hex');
  if (spkiSha256 !== recorded) {
    throw new KeyriteError('TRANSCRIPT_KEY_MISMATCH', `${BUNDLE_FILES.key} (SPKI SHA-256 ${spkiSha256}) is not the transcript key recorded in event ${keyEvent.seq} (${String(recorded)}): the key file was replaced.`, { details: { file: BUNDLE_FILES.key, seq: keyEvent.seq, expected: recorded, actual: spkiSha256 } });
  }

  // 3. The signature over the exact bytes.
  if (!signatureOk) {
    throw new KeyriteError('TRANSCRIPT_SIGNATURE_INVALID', `${BUNDLE_FILES.signature} is not a valid signature of ${BUNDLE_FILES.transcript} by the transcript key: the signature belongs to another transcript, or a file was replaced.`, { details: { file: BUNDLE_FILES.signature } });
  }

  // 4. Files whose SHA-256 the signed chain records. SHA256SUMS itself is not signed, so this is
  // what stops someone from changing keys/… and SHA256SUMS together.
  for (const claim of recordedFiles(events)) {
    const digest = digests.get(claim.file);
    if (!digest) {
      if (!claim.required) continue;
      throw new KeyriteError('BUNDLE_FILE_MISSING', `The bundle has no '${claim.file}', which event ${claim.seq} records as part of it. Copy the complete bundle folder from the ceremony's export medium.`, { details: { file: claim.file, seq: claim.seq } });
    }
    const actual = unwrap(digest);
    if (actual !== claim.sha256) {
      throw new KeyriteError('BUNDLE_FILE_CHANGED', `'${claim.file}' is not the file event ${claim.seq} recorded: its SHA-256 differs, so it was changed after it was written.`, { details: { file: claim.file, seq: claim.seq, expected: claim.sha256, actual } });
    }
  }

  // 5. Every file against SHA256SUMS, both ways.
  const sums = parseSha256Sums(sumsText);
  const listed = new Set(sums.map((s) => s.file));
  for (const entry of sums) {
    if (entry.file === BUNDLE_FILES.sums) {
      throw new KeyriteError('BUNDLE_SUMS_INVALID', 'SHA256SUMS lists itself; it covers every other file of the bundle.', { details: { file: BUNDLE_FILES.sums } });
    }
    const digest = digests.get(entry.file);
    if (!digest) {
      if (present.some((f) => f.startsWith(`${entry.file}/`))) {
        throw new KeyriteError('BUNDLE_SUMS_LISTS_FOLDER', `SHA256SUMS lists '${entry.file}', which is a folder in the bundle; SHA256SUMS lists files only (e.g. '${present.find((f) => f.startsWith(`${entry.file}/`))}'). The file was edited: use the bundle's original SHA256SUMS.`, { details: { file: entry.file } });
      }
      throw missing(entry.file);
    }
    const actual = unwrap(digest);
    if (actual !== entry.sha256) {
      throw new KeyriteError('BUNDLE_FILE_CHANGED', `'${entry.file}' was changed after the bundle was sealed: its SHA-256 is not the one in SHA256SUMS.`, { details: { file: entry.file, expected: entry.sha256, actual } });
    }
  }
  for (const f of present) {
    if (f !== BUNDLE_FILES.sums && !listed.has(f)) {
      throw new KeyriteError('BUNDLE_FILE_UNLISTED', `'${f}' is in the bundle but not in SHA256SUMS: it was added after sealing. Remove it or find the original bundle.`, { details: { file: f } });
    }
  }
  for (const f of [BUNDLE_FILES.transcript, BUNDLE_FILES.signature, BUNDLE_FILES.key, BUNDLE_FILES.html]) {
    if (!has.has(f)) throw missing(f);
  }

  // 6. The printable record is what the signed chain renders to, byte for byte: transcript.html is
  // bound to the signature though not signed itself (and SHA256SUMS, which lists it, is not signed).
  const s = summarizeTranscript(events);
  checkPrintableRecord(html!, events, checked, recorded, s);

  return {
    ok: true,
    ceremony: s.ceremony,
    title: s.title,
    startedAt: s.startedAt,
    sealedAt: last.at,
    outcome: s.outcome === 'aborted' ? 'aborted' : 'sealed',
    demo: s.demo,
    participants: s.participants.map(({ personId, name, roles }) => ({ personId, name, roles })),
    keys: s.keys,
    events: events.length,
    finalHash: checked.finalHash,
    finalHashWords: hexToPgpWords(checked.finalHash),
    transcriptKeySpkiSha256: spkiSha256,
    transcriptKeyWords: hexToPgpWords(spkiSha256),
    files: sums.map((e) => e.file),
  };
}

function checkPrintableRecord(actual: Buffer, events: readonly LayoutEvent[], checked: CheckedLines, keySpkiSha256: unknown, summary: TranscriptSummary): void {
  const last = events[events.length - 1];
  const format = last.data.htmlFormat ?? TRANSCRIPT_HTML_FORMAT;
  if (typeof format !== 'number' || !TRANSCRIPT_HTML_FORMATS.includes(format)) {
    throw new KeyriteError('TRANSCRIPT_HTML_FORMAT_UNSUPPORTED', `The bundle's transcript.html was made in layout version ${String(format)}; this Keyrite renders versions ${TRANSCRIPT_HTML_FORMATS.join(' and ')} only, so it cannot check the printable record. Verify with the Keyrite release that sealed it; transcript.jsonl and its signature are checked above.`, { details: { file: BUNDLE_FILES.html, format } });
  }
  // Compared piece by piece as it is rendered: the whole expected text is never built, and each
  // event's row is the bytes a worker rendered when it checked the line.
  const compare = new StreamingByteCompare(actual);
  writeTranscriptHtml(events, { finalHash: checked.finalHash, keySpkiSha256: String(keySpkiSha256), format, summary }, compare.write, (e) => checked.writeRow(e.seq, compare.writeBytes));
  const at = compare.firstDifference();
  if (at !== -1) {
    // The bytes before `at` are the same in both, so the line is counted in the file itself.
    let line = 1;
    for (let i = actual.indexOf(0x0a); i !== -1 && i < at; i = actual.indexOf(0x0a, i + 1)) line++;
    throw new KeyriteError('TRANSCRIPT_HTML_MISMATCH', `${BUNDLE_FILES.html} is not the printable record of the signed ${BUNDLE_FILES.transcript}: it differs from line ${line} on (byte ${at}). It was edited after sealing; read the record from ${BUNDLE_FILES.transcript}, or regenerate the printout from it.`, { details: { file: BUNDLE_FILES.html, byte: at, line } });
  }
}

interface FileClaim {
  file: string;
  sha256: string;
  seq: number;
  /** Listed by CEREMONY_SEALED as part of the bundle (not just mentioned by an event). */
  required: boolean;
}

/**
 * File hashes the chain records: `{ file, sha256 }` in any event's data (PUBLIC_KEY_EXPORTED,
 * CSR_ISSUED, BACKUP_WRITTEN, …) and CEREMONY_SEALED.data.artifacts `[{ path, sha256 }]`.
 */
function recordedFiles(events: readonly LayoutEvent[]): FileClaim[] {
  const claims: FileClaim[] = [];
  const add = (file: unknown, sha256: unknown, seq: number, required: boolean): void => {
    if (typeof file !== 'string' || typeof sha256 !== 'string' || !/^[0-9a-f]{64}$/.test(sha256)) return;
    const rel = file.replace(/\\/g, '/');
    if (checkBundlePath(rel) !== null) return;
    claims.push({ file: rel, sha256, seq, required });
  };
  for (const e of events) {
    // A file rewritten on purpose (a backup remade after its shares were lost) says which split it
    // supersedes; from then on only the newer record holds for that file.
    if (e.data.supersedes && typeof e.data.file === 'string') {
      const rel = e.data.file.replace(/\\/g, '/');
      for (let i = claims.length - 1; i >= 0; i--) if (claims[i].file === rel) claims.splice(i, 1);
    }
    add(e.data.file, e.data.sha256, e.seq, false);
    if (e.type === 'CEREMONY_SEALED' && Array.isArray(e.data.artifacts)) {
      for (const a of e.data.artifacts) if (a && typeof a === 'object') add((a as Record<string, unknown>).path, (a as Record<string, unknown>).sha256, e.seq, true);
    }
  }
  return claims;
}

type Settled<T> = Promise<{ value?: T; error?: unknown }>;

/** Start work now, never as an unhandled rejection; unwrap() rethrows at the point of reporting. */
function settle<T>(fn: () => Promise<T>): Settled<T> {
  return fn().then((value) => ({ value }), (error: unknown) => ({ error }));
}

function unwrap<T>(r: { value?: T; error?: unknown }): T {
  if ('error' in r) throw r.error;
  return r.value as T;
}

/** Start work now and keep its failure for the point of reporting. */
function settleNow<T>(fn: () => T): { value?: T; error?: unknown } {
  try {
    return { value: fn() };
  } catch (error) {
    return { error };
  }
}

function sha256Hex(data: Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

/** On libuv's thread pool (the callback form), so it overlaps the line checks. A malformed signature is just invalid. */
function verifySignature(data: Uint8Array, key: KeyObject, signature: Buffer): Promise<boolean> {
  return new Promise((resolve) => {
    try {
      nodeVerify('sha384', data, { key, dsaEncoding: 'der' }, signature, (error, ok) => resolve(!error && ok));
    } catch {
      resolve(false);
    }
  });
}

/** The whole file in a SharedArrayBuffer, which worker threads read without a copy. */
async function readShared(file: string): Promise<Buffer> {
  const handle = await fs.open(file, 'r');
  try {
    const size = (await handle.stat()).size;
    const out = Buffer.from(new SharedArrayBuffer(size));
    let off = 0;
    while (off < size) {
      const { bytesRead } = await handle.read(out, off, size - off, off);
      if (bytesRead === 0) break;
      off += bytesRead;
    }
    // A file cut short while it was read is checked as it was read, without stale bytes.
    return off === size ? out : out.subarray(0, off);
  } finally {
    await handle.close();
  }
}

function readTranscriptKey(pem: Buffer): KeyObject {
  let key: KeyObject;
  try {
    key = createPublicKey(pem);
  } catch (cause) {
    throw new KeyriteError('TRANSCRIPT_KEY_INVALID', `${BUNDLE_FILES.key} is not a PEM public key.`, { details: { file: BUNDLE_FILES.key }, cause });
  }
  if (key.asymmetricKeyType !== 'ec' || key.asymmetricKeyDetails?.namedCurve !== 'secp384r1') {
    throw new KeyriteError('TRANSCRIPT_KEY_INVALID', `${BUNDLE_FILES.key} is not an EC P-384 public key, so it is not a Keyrite transcript key.`, { details: { file: BUNDLE_FILES.key } });
  }
  return key;
}

