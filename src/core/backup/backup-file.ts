import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import canonicalize from 'canonicalize';
import { z } from 'zod';
import { KeyriteError } from '../errors';
import { writeFileAtomicSync } from '../fs/atomic-write';
import { decodeInputText, INPUT_LIMITS, readInputFile, type InputFileSpec } from '../fs/input-file';
import { findDuplicateKey } from '../fs/strict-json';
import { spkiFingerprint } from '../hsm/public-key';
import { KEY_TYPES } from '../hsm/key-spec';
import { BACKUP_KEY_ID_RE } from '../keys/key-types';
import { MAX_LABEL_LENGTH, requireKeyLabel } from '../text/plain-text';
import { MAX_SHARES, MIN_THRESHOLD } from './share-codec';
import { SPLIT_ID_PATTERN } from './split-id';
import { pkcs8LengthFits, WRAP_FORMAT } from './wrap-format';

/**
 * Version 2 records the wrap format ("rfc5649") and the exact PKCS#8 length, and allows
 * CKM_AES_KEY_WRAP_KWP. Version 1 (SoftHSM's CKM_AES_KEY_WRAP_PAD, RFC 5649 over zero-padded
 * PKCS#8, no length) is still read and restored.
 */
export const BACKUP_FORMAT_VERSION = 2;
export const BACKUP_FORMAT_VERSIONS_READ = [1, 2] as const;

const hex = (bytes: number) => z.string().regex(new RegExp(`^[0-9a-f]{${bytes * 2}}$`), `expected ${bytes * 2} lowercase hex characters`);
const base64 = z.string().min(1).regex(/^[A-Za-z0-9+/]+={0,2}$/, 'expected base64');

/** Backup file format versions 1 and 2 (docs/formats.md, "Backup file"). Nothing in it is secret. */
export const backupFileSchema = z.strictObject({
  formatVersion: z.union([z.literal(1), z.literal(2)]),
  keyId: z.string().regex(BACKUP_KEY_ID_RE, 'expected letters, digits, dot, dash or underscore'),
  // Becomes CKA_LABEL on restore: the same rule as a label typed by a person.
  keyLabel: z.string().min(1).refine(isValidKeyLabel, { message: `must be a key label of at most ${MAX_LABEL_LENGTH} letters, digits, spaces and . _ - : @ + ( ), without '..' or control characters` }),
  /** CKA_ID of the key, hex (may be empty). */
  ckaId: z.string().regex(/^([0-9a-f]{2})*$/, 'expected lowercase hex'),
  keyType: z.enum(KEY_TYPES as unknown as [string, ...string[]]),
  /** What the key may do; restore recreates exactly this. Keyrite ceremony keys sign only. */
  keyUsage: z.tuple([z.literal('sign')]),
  spkiDer: base64,
  spkiSha256: hex(32),
  /** The PKCS#11 mechanism the source module wrapped with (it yields RFC 5649 there). */
  wrapMechanism: z.enum(['CKM_AES_KEY_WRAP_KWP', 'CKM_AES_KEY_WRAP_PAD']),
  /** Version 2: the blob's format, whichever module made it. */
  wrapFormat: z.literal(WRAP_FORMAT).optional(),
  /** Version 2: the blob unwraps to exactly this many bytes of DER PKCS#8, nothing after. */
  pkcs8Length: z.number().int().positive().optional(),
  wrapTrust: z.enum(['trusted', 'untrusted']),
  wrappedKey: base64,
  kek: z.strictObject({
    algorithm: z.literal('AES-256'),
    kcv: hex(8),
    kcvMethod: z.enum(['aes-cmac', 'aes-ecb']),
  }),
  split: z.strictObject({
    scheme: z.literal('shamir-gf256'),
    id: z.string().regex(SPLIT_ID_PATTERN, 'expected a split id like 7F3A-91C2'),
    threshold: z.number().int().min(MIN_THRESHOLD).max(MAX_SHARES),
    count: z.number().int().min(MIN_THRESHOLD).max(MAX_SHARES),
    shares: z.array(z.strictObject({
      index: z.number().int().min(1).max(MAX_SHARES),
      custodian: z.string().min(1).max(200), // printed escaped (escapeForTerminal): a file may hold anything
      digest: hex(32),
    })).min(MIN_THRESHOLD).max(MAX_SHARES),
  }),
  ceremonyId: z.string().min(1),
  createdAt: z.iso.datetime(),
});

export type BackupFile = z.infer<typeof backupFileSchema> & { keyType: (typeof KEY_TYPES)[number] };

export function backupFilePath(outDir: string, keyId: string): string {
  return path.join(outDir, 'backup', `${keyId}.backup.json`);
}

export function serializeBackup(backup: BackupFile): string {
  return JSON.stringify(backup, null, 2) + '\n';
}

/** Parse and check a backup file's text; `source` names it in messages. */
export function parseBackup(text: string, source: string): BackupFile {
  if (text.trim().length === 0) {
    throw new KeyriteError('BACKUP_CORRUPT', `Backup file '${source}' is empty. Use another copy of the backup.`, { details: { file: source, problem: 'empty' } });
  }
  if (text.charCodeAt(0) === 0xfeff) {
    throw new KeyriteError('BACKUP_HAS_BOM', `Backup file '${source}' starts with a byte-order mark (an invisible character, the bytes EF BB BF, that some editors add). Keyrite writes backups without one, so this copy was re-saved by an editor: use an untouched copy of the backup.`, { details: { file: source, problem: 'byte-order mark' } });
  }
  // A backup is a JSON object: anything else (a password file, a binary, a note) is not a
  // damaged backup but the wrong file, and saying "truncated" would send people looking for the rest.
  if (!/^\s*[{[]/.test(text)) {
    throw notABackup(source, 'it is not JSON: it does not start with "{"');
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    const msg = (e as Error).message;
    const truncated = /end of (JSON|data)|Unterminated|Unexpected end/i.test(msg) || !text.trimEnd().endsWith('}');
    const problem = truncated ? `it ends too early (truncated after ${Buffer.byteLength(text)} bytes)` : `it is not valid JSON (${msg})`;
    throw new KeyriteError('BACKUP_CORRUPT', `Backup file '${source}' is damaged: ${problem}. Use another copy of the backup.`, { details: { file: source, problem, truncated }, cause: e });
  }
  const duplicate = findDuplicateKey(text);
  if (duplicate) {
    const field = duplicate.path ? `${duplicate.path}.${duplicate.key}` : duplicate.key;
    throw new KeyriteError('BACKUP_DUPLICATE_KEY', `Backup file '${source}' names the field '${field}' twice (line ${duplicate.line}). A backup written by Keyrite never does; this copy was edited, so Keyrite will not guess which value is meant. Use another copy of the backup.`, { details: { file: source, field, line: duplicate.line } });
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw new KeyriteError('BACKUP_CORRUPT', `Backup file '${source}' is damaged: it holds ${Array.isArray(raw) ? 'a list' : typeof raw}, not a backup record. Use another copy of the backup.`, { details: { file: source, problem: 'not an object' } });
  }
  const version = (raw as Record<string, unknown>).formatVersion;
  if (typeof version === 'number' && !(BACKUP_FORMAT_VERSIONS_READ as readonly number[]).includes(version)) {
    throw new KeyriteError('BACKUP_VERSION', `Backup file '${source}' is in format version ${version}; this Keyrite reads versions ${BACKUP_FORMAT_VERSIONS_READ.join(' and ')}. Use the Keyrite release that wrote it.`, { details: { file: source, version, supported: [...BACKUP_FORMAT_VERSIONS_READ] } });
  }
  const parsed = backupFileSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const field = issue.path.map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`)).join('').replace(/^\./, '') || '(top level)';
    throw invalid(source, field, issue.message);
  }
  const b = parsed.data as BackupFile;
  // Cross-field rules the schema cannot express.
  if (spkiFingerprint(Buffer.from(b.spkiDer, 'base64')) !== b.spkiSha256) throw invalid(source, 'spkiSha256', 'does not match the SHA-256 of spkiDer');
  if (b.split.threshold > b.split.count) throw invalid(source, 'split.threshold', `is ${b.split.threshold}, more than the share count ${b.split.count}`);
  if (b.split.shares.length !== b.split.count) throw invalid(source, 'split.shares', `lists ${b.split.shares.length} shares, not the count ${b.split.count}`);
  b.split.shares.forEach((s, i) => {
    if (s.index !== i + 1) throw invalid(source, `split.shares[${i}].index`, `is ${s.index}; shares must be listed as 1..${b.split.count} in order`);
  });
  if (b.formatVersion === 1) {
    if (b.wrapMechanism !== 'CKM_AES_KEY_WRAP_PAD') throw invalid(source, 'wrapMechanism', 'must be CKM_AES_KEY_WRAP_PAD in format version 1');
    if (b.wrapFormat !== undefined || b.pkcs8Length !== undefined) throw invalid(source, b.wrapFormat !== undefined ? 'wrapFormat' : 'pkcs8Length', 'exists only from format version 2');
  } else {
    if (b.wrapFormat === undefined) throw invalid(source, 'wrapFormat', `is missing; format version 2 records it ("${WRAP_FORMAT}")`);
    if (b.pkcs8Length === undefined) throw invalid(source, 'pkcs8Length', 'is missing; format version 2 records the exact PKCS#8 length');
    const wrappedLength = Buffer.from(b.wrappedKey, 'base64').length;
    if (!pkcs8LengthFits(wrappedLength, b.pkcs8Length)) throw invalid(source, 'pkcs8Length', `is ${b.pkcs8Length}, which an RFC 5649 blob of ${wrappedLength} bytes cannot carry`);
  }
  return b;
}

function invalid(source: string, field: string, problem: string): KeyriteError {
  return new KeyriteError('BACKUP_INVALID', `Backup file '${source}' is not a valid Keyrite backup: field ${field} ${problem.replace(/^Invalid input: /, '')}. Use another copy of the backup.`, { details: { file: source, field, problem } });
}

function notABackup(source: string, why: string): KeyriteError {
  return new KeyriteError('BACKUP_NOT_A_BACKUP', `'${source}' is not a Keyrite backup file (${why}). Check that you named the backup file (backup/<key-id>.backup.json in the ceremony bundle).`, { details: { file: source, problem: why } });
}

/** Read a backup file a person named: kind, size and encoding are checked before it is parsed. */
export function readBackupFile(file: string): BackupFile {
  const spec: InputFileSpec = { what: 'backup file', domain: 'BACKUP', maxBytes: INPUT_LIMITS.backup };
  const bytes = readInputFile(file, spec);
  let text: string;
  try {
    text = decodeInputText(bytes, file, spec);
  } catch (e) {
    if ((e as KeyriteError).code === 'BACKUP_NOT_UTF8') throw notABackup(file, 'it is binary data, not text');
    throw e;
  }
  return parseBackup(text, file);
}

/**
 * Write outDir/backup/<keyId>.backup.json without ever leaving a partial file under the final
 * name (see writeFileAtomicSync: exclusive, so it never overwrites), then read it back and compare.
 */
export function writeBackupFile(outDir: string, backup: BackupFile): string {
  const file = backupFilePath(outDir, backup.keyId);
  const dir = path.dirname(file);
  mkdirSync(dir, { recursive: true });
  if (existsSync(file)) throw backupExists(file);
  const text = serializeBackup(backup);
  try {
    writeFileAtomicSync(file, text, { exclusive: true });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') throw backupExists(file);
    throw e;
  }
  const again = readFileSync(file, 'utf8');
  const reparsed = parseBackup(again, file);
  if (again !== text || canonicalize(reparsed) !== canonicalize(backup)) {
    throw new KeyriteError('BACKUP_VERIFY_FAILED', `Backup file '${file}' reads back differently from what was written. The disk may be failing: write the backup to another medium.`, { details: { file } });
  }
  return file;
}

function backupExists(file: string): KeyriteError {
  return new KeyriteError('BACKUP_EXISTS', `Backup file '${file}' already exists; Keyrite never overwrites a backup. Choose another output folder or move the old file away first.`, { details: { file } });
}

function isValidKeyLabel(label: string): boolean {
  try {
    requireKeyLabel(label);
    return true;
  } catch {
    return false;
  }
}
