import { createHash } from 'node:crypto';
import { createRequire } from 'node:module';
import { KeyriteError } from '../errors';

type Canonicalize = (value: unknown) => string | undefined;
let canonicalize: Canonicalize | undefined;

/**
 * RFC 8785 (JCS) canonical JSON, from the `canonicalize` package. Loaded on first use: `keyrite
 * verify` proves a line canonical without it (parse.ts), and a CommonJS package imported by an ES
 * module costs its start-up a lexer pass (~5% of it, measured with callgrind).
 */
export function canonicalJson(value: unknown): string {
  canonicalize ??= createRequire(import.meta.url)('canonicalize') as Canonicalize;
  const text = canonicalize(value);
  if (text === undefined) throw new KeyriteError('TRANSCRIPT_EVENT_INVALID', 'Keyrite cannot write this value as canonical JSON.');
  return text;
}

export function sha256Hex(data: string | Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

/**
 * Event data must be plain JSON: canonicalize would silently turn a Buffer into {type,data},
 * drop undefined members and call toJSON on Dates, so the hashed evidence would differ from
 * what the caller meant. Returns the JSON path of the first offending value, or null.
 */
export function nonJsonPath(value: unknown, path = 'data'): string | null {
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return null;
  if (typeof value === 'number') return Number.isFinite(value) ? null : path;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const p = nonJsonPath(value[i], `${path}[${i}]`);
      if (p) return p;
    }
    return null;
  }
  if (typeof value === 'object') {
    const proto = Object.getPrototypeOf(value);
    if (proto !== Object.prototype && proto !== null) return path;
    for (const [k, v] of Object.entries(value)) {
      const p = nonJsonPath(v, `${path}.${k}`);
      if (p) return p;
    }
    return null;
  }
  return path;
}

/**
 * True when every object in `value` lists its keys in RFC 8785 order (UTF-16 code units, which is
 * what JS `<` compares). Together with JSON.stringify(value) === line this proves the line is
 * canonical without re-serializing it (the fast path of parseTranscript).
 */
export function keysSortedDeep(value: unknown): boolean {
  if (value === null || typeof value !== 'object') return true;
  if (Array.isArray(value)) {
    for (const item of value) if (!keysSortedDeep(item)) return false;
    return true;
  }
  let previous: string | undefined;
  for (const key in value as Record<string, unknown>) {
    if (previous !== undefined && !(previous < key)) return false;
    previous = key;
    if (!keysSortedDeep((value as Record<string, unknown>)[key])) return false;
  }
  return true;
}
