import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { KeyriteError } from '../errors';

/**
 * SHA256SUMS in the format of GNU `sha256sum` (and `sha256sum -c`): one `<hex>  <path>` line
 * per file, paths relative to the bundle with '/' separators, sorted by code unit.
 */
export interface SumEntry {
  sha256: string;
  file: string;
}

/** Names sha256sum would escape (backslash, newline) or that could climb out of the bundle are refused. */
export function checkBundlePath(file: string): string | null {
  if (file.length === 0) return 'it is empty';
  if (/[\\\n\r\0]/.test(file)) return 'it contains a backslash, newline or NUL';
  if (file.startsWith('/')) return 'it is absolute';
  if (file.split('/').some((part) => part === '' || part === '.' || part === '..')) return "it has an empty, '.' or '..' part";
  return null;
}

/**
 * Every regular file under `dir`, as relative '/' paths, sorted. Anything else is refused. The
 * folders are read synchronously: a bundle has three, and each asynchronous read would be a trip
 * through libuv's thread pool costing more CPU than the read (issue #18).
 */
export async function listBundleFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  const walk = (rel: string): void => {
    const entries = readdirSync(path.join(dir, rel), { withFileTypes: true });
    for (const entry of entries) {
      const relPath = rel ? `${rel}/${entry.name}` : entry.name;
      if (entry.isDirectory()) walk(relPath);
      else if (entry.isFile()) out.push(relPath);
      else {
        throw new KeyriteError('BUNDLE_FILE_NOT_REGULAR', `'${relPath}' in the bundle is not a regular file (a link, device or socket). A bundle holds only plain files; remove it.`, { details: { file: relPath } });
      }
      const problem = checkBundlePath(relPath);
      if (problem) throw new KeyriteError('BUNDLE_FILE_NAME_INVALID', `The bundle file name '${relPath}' cannot be listed in SHA256SUMS: ${problem}. Rename it.`, { details: { file: relPath } });
    }
  };
  walk('');
  return out.sort();
}

/** Read at once: bundle files other than the transcript are a few kilobytes, and a trip through libuv's pool per read costs more than the read. */
export function sha256File(file: string): string {
  return createHash('sha256').update(readFileSync(file)).digest('hex');
}

export function formatSha256Sums(entries: readonly SumEntry[]): string {
  return entries.map((e) => `${e.sha256}  ${e.file}\n`).join('');
}

export function parseSha256Sums(text: string): SumEntry[] {
  const invalid = (line: number, what: string): KeyriteError =>
    new KeyriteError('BUNDLE_SUMS_INVALID', `SHA256SUMS line ${line} ${what}. The file was damaged or edited.`, { details: { file: 'SHA256SUMS', line } });
  if (text.length > 0 && !text.endsWith('\n')) throw invalid(text.split('\n').length, 'does not end with a newline');
  const lines = text.split('\n').slice(0, -1);
  const seen = new Set<string>();
  return lines.map((line, i) => {
    const m = /^([0-9a-f]{64}) [ *](.+)$/.exec(line);
    if (!m) throw invalid(i + 1, 'is not "<64 hex digits>  <file>"');
    const file = m[2];
    const problem = checkBundlePath(file);
    if (problem) throw invalid(i + 1, `names '${file}', which is not allowed: ${problem}`);
    if (seen.has(file)) throw invalid(i + 1, `lists '${file}' a second time`);
    seen.add(file);
    return { sha256: m[1], file };
  });
}
