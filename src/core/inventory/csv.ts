import type { InventoryKey } from './types';

export interface CsvOptions {
  /** Include the per-key columns after the five legacy ones (default true). */
  full?: boolean;
}

/**
 * The five columns of the key-inventory.csv kept by hand before Keyrite (id, algorithm, size,
 * created, status) come first, in that order, so spreadsheets and scripts built on it keep working.
 */
export const LEGACY_COLUMNS = ['id', 'algorithm', 'size', 'created', 'status'] as const;
export const EXTRA_COLUMNS = [
  'label', 'curve', 'purpose', 'token_label', 'token_serial', 'fingerprint_sha256', 'ceremony_id', 'rotation_due',
  'weak', 'overdue', 'flag_reasons', 'backups', 'certificates', 'facts',
] as const;

/**
 * One RFC 4180 field: quoted when it holds a comma, quote, CR or LF (quotes doubled). A field
 * starting with = + - @ would run as a formula in spreadsheet tools, so it gets a leading
 * apostrophe (OWASP's CSV-injection advice); labels and facts are typed by people.
 */
export function csvField(value: unknown): string {
  let s = value === null || value === undefined ? '' : String(value);
  if (/^[=+\-@\t\r]/.test(s)) s = `'${s}`;
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

export function csvRecord(values: unknown[]): string {
  return values.map(csvField).join(',');
}

function row(k: InventoryKey, full: boolean): unknown[] {
  const seed = [k.id, k.algorithm.toUpperCase(), k.size, k.createdAt, k.status];
  if (!full) return seed;
  const backups = k.backups.map((b) => `${b.file} (split ${b.splitId}, ${b.threshold} of ${b.count}: ${b.custodians.join('; ')})${b.destroyedAt ? ` destroyed ${b.destroyedAt}` : ''}`);
  const certs = k.certificates.map((c) => `${c.serial} ${c.subject} ${c.notBefore.slice(0, 10)}..${c.notAfter.slice(0, 10)}`);
  const facts = k.facts.map((f) => `${f.kind}: ${f.text}`);
  return [
    ...seed, k.label, k.curve ?? '', k.purpose, k.tokenLabel, k.tokenSerial, k.fingerprint, k.ceremonyId, k.rotationDue ?? '',
    k.flags.weak ? 'yes' : 'no', k.flags.overdue ? 'yes' : 'no', k.flags.reasons.join('\n'), backups.join('\n'), certs.join('\n'), facts.join('\n'),
  ];
}

/** The whole inventory as RFC 4180 CSV (CRLF line ends, header row). */
export function inventoryCsv(keys: InventoryKey[], opts: CsvOptions = {}): string {
  const full = opts.full ?? true;
  const header = full ? [...LEGACY_COLUMNS, ...EXTRA_COLUMNS] : [...LEGACY_COLUMNS];
  return [csvRecord(header), ...keys.map((k) => csvRecord(row(k, full)))].join('\r\n') + '\r\n';
}
