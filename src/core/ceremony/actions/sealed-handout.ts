import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import path from 'node:path';
import type { IssuedShare } from '../../backup/issue-shares';
import { sealShareToRecipient } from '../../backup/openpgp-recipient';
import { KeyriteError } from '../../errors';
import { crashPoint } from '../../fault';
import { writeFileAtomic } from '../../fs/atomic-write';
import type { ActionContext, OpenPgpEnrolment } from '../context';
import type { SealedHandout } from '../types';

/** A sealed share file as written: what the custodian carries away and the transcript records. */
export type SealedFile = NonNullable<SealedHandout['file']>;

const esc = (s: string): string => s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

/**
 * Where sealed shares go when no folder is chosen: beside the bundle, not in it. The bundle is
 * published and archived; a share file belongs on the custodian's medium, and the seal refuses
 * files it did not write.
 */
export function defaultSealDir(ctx: ActionContext): string {
  const out = path.resolve(ctx.outDir);
  return path.join(path.dirname(out), `${path.basename(out)}-sealed-shares`);
}

/** `<custodian id>-<split id>-share-<index>.asc`: ids are [a-z0-9._-] by check-in, split ids hex and dashes. */
export function sealedFileName(custodianId: string, splitId: string, index: number): string {
  const safe = (s: string): string => s.replace(/[^A-Za-z0-9._-]/g, '_').replace(/^\.+/, '_');
  return `${safe(custodianId)}-${safe(splitId)}-share-${index}.asc`;
}

function sealDir(ctx: ActionContext, chosen: string | undefined): string {
  const dir = path.resolve(chosen ?? defaultSealDir(ctx));
  const out = path.resolve(ctx.outDir);
  if (dir === out || dir.startsWith(out + path.sep)) {
    throw new KeyriteError('SHARE_SEAL_DIR', `Keyrite cannot write the sealed share into '${dir}': it is inside the ceremony's bundle folder, which is published. Choose the custodian's own medium (or leave the folder empty for '${defaultSealDir(ctx)}').`, { details: { dir } });
  }
  if (chosen === undefined) mkdirSync(dir, { recursive: true, mode: 0o700 });
  let isDir = false;
  try {
    isDir = statSync(dir).isDirectory();
  } catch {
    isDir = false;
  }
  if (!isDir) throw new KeyriteError('SHARE_SEAL_DIR', `Keyrite cannot write the sealed share into '${dir}' (no such folder). Insert and mount the custodian's medium, or choose another folder.`, { details: { dir } });
  return dir;
}

/**
 * Encrypts the share's text (header line and words, exactly the documented share text) to the
 * custodian's key and writes it, never overwriting, then reads it back to record the hash of what
 * is really on the medium. The words are never shown; the transcript gets the file's SHA-256 and
 * the recipient fingerprint.
 */
export async function writeSealedShare(ctx: ActionContext, share: IssuedShare, key: OpenPgpEnrolment, custodianId: string, chosenDir: string | undefined): Promise<SealedFile> {
  const dir = sealDir(ctx, chosenDir);
  const splitId = ctx.state.backup!.splitId;
  const name = sealedFileName(custodianId, splitId, share.index);
  const file = path.join(dir, name);
  const sealed = await sealShareToRecipient(`${share.header}\n${share.words.join(' ')}\n`, key);
  // The file is announced (path and the hash it will have) and committed before it is written: a
  // process killed after the write still knows the file, so resuming into a fresh split removes it.
  const before = ctx.state.sealedFiles ?? [];
  const entry = { path: file, splitId, index: share.index, sha256: sealed.sha256 };
  ctx.state.sealedFiles = [...before.filter((f) => f.path !== file), entry];
  await ctx.checkpoint();
  crashPoint('sealed-share:announced');
  try {
    await writeFileAtomic(file, sealed.armored, { exclusive: true, mode: 0o644, onTempWritten: () => crashPoint('sealed-share:temp-written') });
  } catch (e) {
    ctx.state.sealedFiles = before;
    await ctx.checkpoint();
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') throw new KeyriteError('SHARE_SEAL_EXISTS', `'${file}' already exists; Keyrite never overwrites a file. Move it away or choose another folder.`, { details: { file } });
    throw new KeyriteError('SHARE_SEAL_DIR', `Keyrite cannot write the sealed share into '${dir}' (${code ?? 'write failed'}). Check the medium is mounted writable, or choose another folder.`, { details: { dir, errno: code ?? null } });
  }
  crashPoint('sealed-share:written');
  const sha256 = createHash('sha256').update(readFileSync(file)).digest('hex');
  if (sha256 !== sealed.sha256) {
    rmSync(file, { force: true });
    ctx.state.sealedFiles = before;
    await ctx.checkpoint();
    throw new KeyriteError('SHARE_SEAL_DIR', `The sealed share read back from '${file}' differs from what was written; the medium may be failing. It was removed: choose another medium.`, { details: { file } });
  }
  ctx.emit('SHARE_SEALED', {
    index: share.index, custodian: share.custodian, header: share.header, splitId, fileName: name, dir, sha256,
    recipientFingerprint: key.fingerprint, format: 'OpenPGP message (RFC 9580), ASCII armored; plaintext: the share text',
  }, custodianId);
  return { name, path: file, dir, sha256 };
}

/**
 * Sealed files of a split that is void (a custodian could not decrypt, or Keyrite stopped during
 * the hand-out) are removed where they still are, so nobody keeps a share of a dead split by
 * mistake. Returns the names removed, for the record.
 */
export function removeVoidSealedFiles(ctx: ActionContext, liveSplitId: string | null): string[] {
  const removed: string[] = [];
  const keep: NonNullable<ActionContext['state']['sealedFiles']> = [];
  for (const f of ctx.state.sealedFiles ?? []) {
    if (f.splitId === liveSplitId) {
      keep.push(f);
      continue;
    }
    removeOwnTemps(f.path);
    try {
      // Only the file Keyrite wrote: a file with other contents under that name is someone else's.
      if (f.sha256 && createHash('sha256').update(readFileSync(f.path)).digest('hex') !== f.sha256) continue;
      rmSync(f.path);
      removed.push(path.basename(f.path));
    } catch {
      // Already taken away on the custodian's medium (or never written: the process died first).
    }
  }
  ctx.state.sealedFiles = keep;
  return removed;
}

/** What writeFileAtomic leaves beside `file` when the process dies mid-write (see atomic-write.ts). */
function removeOwnTemps(file: string): void {
  const prefix = `.${path.basename(file)}.keyrite-tmp-`;
  let names: string[];
  try {
    names = readdirSync(path.dirname(file));
  } catch {
    return;
  }
  for (const n of names) if (n.startsWith(prefix) && /^[0-9a-f]{12}$/.test(n.slice(prefix.length))) rmSync(path.join(path.dirname(file), n), { force: true });
}

/** The card for a sealed share: split id, index, file name and the ciphertext's SHA-256 — never words. */
export function renderSealedShareCardHtml(share: { index: number; custodian: string; header: string }, file: SealedFile, fingerprintGroups: string, opts: { ceremonyTitle: string; keyId: string }): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<title>Sealed share ${share.index} — ${esc(opts.keyId)}</title>
<style>
  body { font-family: system-ui, sans-serif; margin: 2rem; color: #000; }
  h1 { font-size: 1.3rem; margin: 0 0 .2rem; }
  .mono { font-family: ui-monospace, monospace; font-size: 1.05rem; word-break: break-all; }
  @media print { body { margin: 1cm; } }
</style>
</head>
<body>
<h1>${esc(opts.ceremonyTitle)}</h1>
<p>Key <strong>${esc(opts.keyId)}</strong> · custodian <strong>${esc(share.custodian)}</strong></p>
<p class="mono">${esc(share.header)}</p>
<p>This share is sealed to the OpenPGP key <span class="mono">${esc(fingerprintGroups)}</span>. It is not printed here.</p>
<p>File: <span class="mono">${esc(file.name)}</span><br>SHA-256 of the file: <span class="mono">${esc(file.sha256)}</span></p>
<p>At recovery, decrypt the file on your own device (gpg --decrypt ${esc(file.name)}) and enter the words, or hand Keyrite the decrypted file.</p>
</body>
</html>
`;
}
