import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';

export interface SecretHit {
  file: string;
  secret: string;
}

function walk(dir: string, out: string[] = []): string[] {
  for (const name of readdirSync(dir)) {
    const p = path.join(dir, name);
    const st = statSync(p);
    if (st.isDirectory()) walk(p, out);
    else if (st.isFile()) out.push(p);
  }
  return out;
}

/**
 * Scan every file under `dirs` for each secret: as text, hex and base64 of its UTF-8 bytes, and
 * (for share words) runs of three consecutive words of any share, which catches a share stored
 * in any whitespace or JSON form. Binary files (sqlite, WAL, token objects) are scanned too.
 */
export function scanForSecrets(dirs: string[], secrets: Array<string | Buffer>, opts: { shareWords?: string[]; exclude?: string[] } = {}): SecretHit[] {
  const needles: Array<{ label: string; bytes: Buffer }> = [];
  for (const s of secrets) {
    const raw = typeof s === 'string' ? Buffer.from(s, 'utf8') : s;
    const label = typeof s === 'string' ? s.slice(0, 24) : `bytes:${raw.toString('hex').slice(0, 16)}`;
    needles.push({ label, bytes: raw }, { label: `${label} (hex)`, bytes: Buffer.from(raw.toString('hex')) }, { label: `${label} (HEX)`, bytes: Buffer.from(raw.toString('hex').toUpperCase()) }, { label: `${label} (base64)`, bytes: Buffer.from(raw.toString('base64').replace(/=+$/, '')) });
  }
  const words = opts.shareWords ?? [];
  for (let i = 0; i + 3 <= words.length; i++) {
    for (const sep of [' ', '","', '\n', ',']) needles.push({ label: `words ${words.slice(i, i + 3).join(' ')}`, bytes: Buffer.from(words.slice(i, i + 3).join(sep)) });
  }
  const hits: SecretHit[] = [];
  for (const dir of dirs) {
    for (const file of walk(dir)) {
      if (opts.exclude?.some((x) => path.resolve(file) === path.resolve(x))) continue;
      const content = readFileSync(file);
      for (const n of needles) {
        if (n.bytes.length >= 4 && content.includes(n.bytes)) hits.push({ file, secret: n.label });
      }
    }
  }
  return hits;
}
