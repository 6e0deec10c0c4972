import { KeyriteError } from '../errors';

/** A split id is 4 random bytes, shown to people as `7F3A-91C2`. */
export const SPLIT_ID_PATTERN = /^[0-9A-F]{4}-[0-9A-F]{4}$/;

export function formatSplitId(bytes: Uint8Array): string {
  if (bytes.length !== 4) throw new KeyriteError('INTERNAL_SPLIT_ID', `A split id is 4 bytes, not ${bytes.length}.`);
  const hex = Buffer.from(bytes).toString('hex').toUpperCase();
  return `${hex.slice(0, 4)}-${hex.slice(4)}`;
}

export function splitIdBytes(id: string): Buffer {
  if (!SPLIT_ID_PATTERN.test(id)) throw new KeyriteError('INTERNAL_SPLIT_ID', `'${id}' is not a split id (expected like 7F3A-91C2).`);
  return Buffer.from(id.replace('-', ''), 'hex');
}
