import { KeyriteError } from '../errors';
import { keyIdTag, keyTypeName, readKeyType } from '../keys/key-types';

export { KEY_ID_RE } from '../keys/key-types';

/** The key id tag for a key type: 'ec-p384' → 'ecp384', 'rsa-4096' → 'rsa4096'. */
export function keyIdTagFor(type: string): string {
  const parsed = readKeyType(type);
  if (!parsed) throw new KeyriteError('KEY_TYPE_UNKNOWN', `'${type}' is not a key type Keyrite knows. Write it as rsa-3072 or ec-p384.`, { details: { type } });
  return keyIdTag(parsed);
}

/** The key type of an inventory row: 'rsa-3072', 'ec-p384'. */
export function inventoryKeyType(key: { algorithm: string; size: number; curve: string | null }): string {
  const bits = key.algorithm === 'ec' && key.curve ? Number(key.curve.replace(/^P-/i, '')) : key.size;
  return keyTypeName({ algorithm: key.algorithm, bits });
}
