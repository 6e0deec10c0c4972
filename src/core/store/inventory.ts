import { KeyriteError, isKeyriteError } from '../errors';
import { checkKeyType, parsePolicyKeyType, rotationDue, type KeyPolicy, type KeyPurpose } from '../policy';
import { inventoryCsv, type CsvOptions } from '../policy/inventory-csv';
import type { Store } from './db';

export { reconcileInventory, type Drift, type DriftKind } from '../policy/reconcile';

export type KeyStatus = 'active' | 'retiring' | 'archived' | 'destroyed' | 'compromised';
export const KEY_STATUSES: readonly KeyStatus[] = ['active', 'retiring', 'archived', 'destroyed', 'compromised'];

/** A KEK backup of the key (the backup file itself lives in the ceremony bundle). */
export interface BackupRef {
  file: string;
  splitId: string;
  threshold: number;
  count: number;
  custodians: string[];
  ceremonyId?: string;
  createdAt?: string;
  /** Set when a destruction ceremony records that the backup (and its shares) were destroyed. */
  destroyedAt?: string | null;
}

export interface CertRef {
  /** Certificate serial number, hex. */
  serial: string;
  subject: string;
  issuer?: string;
  notBefore: string;
  notAfter: string;
  /** SHA-256 of the certificate DER, hex. */
  fingerprint?: string;
  file?: string;
  ceremonyId?: string;
}

/** A recorded statement about the key, e.g. the serial of the tamper-evident bag a share went into. */
export interface Fact {
  kind: string;
  text: string;
  at?: string;
  ceremonyId?: string;
}

/** What the token's key objects are expected to say; reconcile compares against it. */
export interface ExpectedAttributes {
  extractable: boolean;
  sensitive: boolean;
  /** Usage flags over both halves: sign, verify, wrap, unwrap, encrypt, decrypt, derive. */
  usage: string[];
}

export interface InventoryKey {
  id: string;
  label: string;
  algorithm: 'rsa' | 'ec';
  /** RSA modulus bits, or EC field bits (384 for P-384). */
  size: number;
  curve: string | null;
  purpose: KeyPurpose;
  tokenLabel: string;
  tokenSerial: string;
  /** SHA-256 of the SPKI DER, lowercase hex. */
  fingerprint: string;
  createdAt: string;
  ceremonyId: string;
  status: KeyStatus;
  rotationDue: string | null;
  attributes: ExpectedAttributes;
  backups: BackupRef[];
  certificates: CertRef[];
  facts: Fact[];
  flags: { weak: boolean; overdue: boolean; reasons: string[] };
}

export interface NewInventoryKey {
  id: string;
  label: string;
  algorithm: 'rsa' | 'ec';
  size: number;
  curve?: string | null;
  purpose: KeyPurpose;
  tokenLabel: string;
  tokenSerial: string;
  fingerprint: string;
  createdAt: Date | string;
  ceremonyId: string;
  /** Default 'active'. */
  status?: KeyStatus;
  /** Default: createdAt + the purpose's rotation period. */
  rotationDue?: Date | string | null;
  /** Default: not extractable, sensitive, the purpose's usage flags. Pass extractable: true for keys generated wrappable for backup. */
  attributes?: Partial<ExpectedAttributes>;
  backups?: BackupRef[];
  certificates?: CertRef[];
  facts?: Fact[];
}

export interface StatusChange {
  keyId: string;
  at: string;
  from: KeyStatus | null;
  to: KeyStatus;
  ceremonyId: string;
  reason: string | null;
}

/**
 * Lifecycle order. Forward moves may skip stages (a destruction ceremony takes an active key
 * straight to destroyed); nothing moves backwards, and destroyed is final.
 */
const ORDER: Record<KeyStatus, number> = { active: 0, retiring: 1, archived: 2, destroyed: 3, compromised: -1 };

export function statusTransitionAllowed(from: KeyStatus, to: KeyStatus): boolean {
  if (from === to || from === 'destroyed') return false;
  if (to === 'compromised') return true;
  if (from === 'compromised') return to === 'destroyed';
  return ORDER[to] > ORDER[from];
}

interface KeyRow {
  id: string;
  label: string;
  algorithm: string;
  size: number;
  curve: string | null;
  purpose: string;
  token_label: string;
  token_serial: string;
  fingerprint: string;
  created_at: string;
  ceremony_id: string;
  status: string;
  rotation_due: string | null;
  attributes: string;
  backups: string;
  certificates: string;
  facts: string;
}

const KEY_ID_RE = /^((?:rsa|ecp)\d+)-(\d{4})-(\d{2,})$/;

/** The key id tag for a key type: 'ec-p384' → 'ecp384', 'rsa-4096' → 'rsa4096'. */
export function keyIdTagFor(type: string): string {
  const parsed = parsePolicyKeyType(type);
  if (!parsed) throw new KeyriteError('KEY_TYPE_UNKNOWN', `'${type}' is not a key type Keyrite knows. Write it as rsa-3072 or ec-p384.`, { details: { type } });
  return parsed.algorithm === 'ec' ? `ecp${parsed.bits}` : `${parsed.algorithm}${parsed.bits}`;
}

/** The policy key type of an inventory row: 'rsa-3072', 'ec-p384'. */
export function inventoryKeyType(key: { algorithm: string; size: number; curve: string | null }): string {
  if (key.algorithm === 'ec') return `ec-p${key.curve ? key.curve.replace(/^P-/i, '') : key.size}`;
  return `${key.algorithm}-${key.size}`;
}

const iso = (d: Date | string): string => (typeof d === 'string' ? new Date(d).toISOString() : d.toISOString());

/**
 * The key inventory (seed 003's key-inventory.csv, kept in the store). Every write takes an
 * optional `tx`: the ceremony runner passes the Store of its own transaction so inventory changes
 * commit with the step that caused them; without it, each call is its own transaction.
 */
export class Inventory {
  constructor(
    readonly store: Store,
    readonly policy: KeyPolicy,
  ) {}

  private write<T>(tx: Store | undefined, fn: (db: Store) => Promise<T>): Promise<T> {
    return tx ? fn(tx) : this.store.transaction(fn);
  }

  /** Next key id `<alg>-<year>-<nn>` (numbers are never reused, even for destroyed keys). */
  async allocateKeyId(type: string, year: number, tx?: Store): Promise<string> {
    const tag = keyIdTagFor(type);
    if (!Number.isInteger(year) || year < 2000 || year > 9999) {
      throw new KeyriteError('KEY_ID_YEAR_INVALID', `${year} is not a valid year for a key id.`, { details: { year } });
    }
    const db = tx ?? this.store;
    const prefix = `${tag}-${year}-`;
    const rows = await db.all<{ id: string }>('SELECT id FROM keys WHERE substr(id, 1, ?) = ?', [prefix.length, prefix]);
    let max = 0;
    for (const { id } of rows) {
      const m = KEY_ID_RE.exec(id);
      if (m && m[1] === tag && Number(m[2]) === year) max = Math.max(max, Number(m[3]));
    }
    return `${prefix}${String(max + 1).padStart(2, '0')}`;
  }

  async add(key: NewInventoryKey, tx?: Store): Promise<void> {
    if (!KEY_ID_RE.test(key.id)) {
      throw new KeyriteError('KEY_ID_INVALID', `'${key.id}' is not a key id. Key ids look like ecp384-2026-01 (<alg>-<year>-<nn>); use allocateKeyId.`, { details: { id: key.id } });
    }
    const tag = keyIdTagFor(inventoryKeyType({ algorithm: key.algorithm, size: key.size, curve: key.curve ?? null }));
    if (KEY_ID_RE.exec(key.id)![1] !== tag) {
      throw new KeyriteError('KEY_ID_MISMATCH', `Key id '${key.id}' does not match the key (${tag}); allocate an id for the key's own type.`, { details: { id: key.id, tag } });
    }
    if (!key.ceremonyId) throw new KeyriteError('KEY_CEREMONY_MISSING', `Key '${key.id}' cannot enter the inventory without the id of the ceremony that made it.`, { details: { id: key.id } });
    if (!Object.hasOwn(this.policy.purposes, key.purpose)) {
      throw new KeyriteError('KEY_PURPOSE_UNKNOWN', `'${key.purpose}' is not a key purpose. Use one of: ${Object.keys(this.policy.purposes).join(', ')}.`, { details: { id: key.id } });
    }
    const status = key.status ?? 'active';
    const createdAt = iso(key.createdAt);
    const due = key.rotationDue === undefined ? rotationDue(this.policy, key.purpose, new Date(createdAt)).toISOString() : key.rotationDue === null ? null : iso(key.rotationDue);
    const attributes: ExpectedAttributes = {
      extractable: key.attributes?.extractable ?? false,
      sensitive: key.attributes?.sensitive ?? true,
      usage: key.attributes?.usage ?? [...this.policy.purposes[key.purpose].usage],
    };
    await this.write(tx, async (db) => {
      const existing = await db.get<{ label: string; ceremony_id: string }>('SELECT label, ceremony_id FROM keys WHERE id = ?', [key.id]);
      if (existing) throw collision(key.id, existing.label, existing.ceremony_id);
      try {
        await db.run(
          `INSERT INTO keys (id, label, algorithm, size, curve, purpose, token_label, token_serial, fingerprint, created_at, ceremony_id, status, rotation_due, attributes, backups, certificates, facts)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
          [key.id, key.label, key.algorithm, key.size, key.curve ?? null, key.purpose, key.tokenLabel, key.tokenSerial, key.fingerprint.toLowerCase(), createdAt, key.ceremonyId, status, due,
            JSON.stringify(attributes), JSON.stringify(key.backups ?? []), JSON.stringify(key.certificates ?? []), JSON.stringify(key.facts ?? [])],
        );
      } catch (e) {
        // Another writer took the id between the check and the insert.
        if (isKeyriteError(e) && /constraint/i.test(String((e.cause as Error | undefined)?.message))) throw collision(key.id, '?', '?');
        throw e;
      }
      await db.run('INSERT INTO key_status_history (key_id, at, from_status, to_status, ceremony_id, reason) VALUES (?, ?, NULL, ?, ?, ?)', [key.id, createdAt, status, key.ceremonyId, 'created']);
    });
  }

  async get(id: string): Promise<InventoryKey | undefined> {
    const row = await this.store.get<KeyRow>('SELECT * FROM keys WHERE id = ?', [id]);
    return row ? this.toKey(row, new Date()) : undefined;
  }

  /** The key with this SPKI fingerprint (the oldest, if a key was restored into a second token). */
  async findByFingerprint(hex: string): Promise<InventoryKey | undefined> {
    const row = await this.store.get<KeyRow>('SELECT * FROM keys WHERE fingerprint = ? ORDER BY created_at, id LIMIT 1', [hex.replace(/[:\s]/g, '').toLowerCase()]);
    return row ? this.toKey(row, new Date()) : undefined;
  }

  /** The key with this label that is not destroyed, else the newest destroyed one. */
  async findByLabel(label: string): Promise<InventoryKey | undefined> {
    const row = await this.store.get<KeyRow>("SELECT * FROM keys WHERE label = ? ORDER BY status = 'destroyed', created_at DESC, id DESC LIMIT 1", [label]);
    return row ? this.toKey(row, new Date()) : undefined;
  }

  async list(opts: { now?: Date } = {}): Promise<InventoryKey[]> {
    const now = opts.now ?? new Date();
    const rows = await this.store.all<KeyRow>('SELECT * FROM keys ORDER BY created_at, id');
    return rows.map((r) => this.toKey(r, now));
  }

  async history(id: string): Promise<StatusChange[]> {
    const rows = await this.store.all<{ key_id: string; at: string; from_status: string | null; to_status: string; ceremony_id: string; reason: string | null }>(
      'SELECT * FROM key_status_history WHERE key_id = ? ORDER BY rowid', [id]);
    return rows.map((r) => ({ keyId: r.key_id, at: r.at, from: r.from_status as KeyStatus | null, to: r.to_status as KeyStatus, ceremonyId: r.ceremony_id, reason: r.reason }));
  }

  /** Change a key's status, only through a ceremony, recorded in key_status_history. */
  async setStatus(id: string, to: KeyStatus, ceremonyId: string, reason?: string, tx?: Store): Promise<void> {
    if (!KEY_STATUSES.includes(to)) {
      throw new KeyriteError('KEY_STATUS_UNKNOWN', `'${to}' is not a key status. Use one of: ${KEY_STATUSES.join(', ')}.`, { details: { id, to } });
    }
    if (!ceremonyId) {
      throw new KeyriteError('KEY_CEREMONY_MISSING', `The status of key '${id}' changes only through a ceremony; no ceremony id was given.`, { details: { id, to } });
    }
    await this.write(tx, async (db) => {
      const row = await db.get<{ status: KeyStatus }>('SELECT status FROM keys WHERE id = ?', [id]);
      if (!row) throw notFound(id);
      const from = row.status;
      if (!statusTransitionAllowed(from, to)) {
        const why = from === to ? `it is already ${to}` : from === 'destroyed' ? 'a destroyed key stays destroyed' : from === 'compromised' ? 'a compromised key can only be destroyed' : 'keys only move forward: active → retiring → archived → destroyed, or to compromised';
        throw new KeyriteError('KEY_STATUS_TRANSITION', `Key '${id}' cannot go from ${from} to ${to}: ${why}.`, { details: { id, from, to } });
      }
      await db.run('UPDATE keys SET status = ? WHERE id = ?', [to, id]);
      await db.run('INSERT INTO key_status_history (key_id, at, from_status, to_status, ceremony_id, reason) VALUES (?, ?, ?, ?, ?, ?)', [id, new Date().toISOString(), from, to, ceremonyId, reason ?? null]);
    });
  }

  addBackup(id: string, ref: BackupRef, tx?: Store): Promise<void> {
    return this.append(id, 'backups', ref, tx);
  }

  addCertificate(id: string, ref: CertRef, tx?: Store): Promise<void> {
    return this.append(id, 'certificates', ref, tx);
  }

  addFact(id: string, fact: Fact, tx?: Store): Promise<void> {
    return this.append(id, 'facts', { ...fact, at: fact.at ?? new Date().toISOString() }, tx);
  }

  /** RFC 4180 CSV: seed 003's columns first (id, algorithm, size, created, status), then the rest. */
  async toCsv(opts: CsvOptions & { now?: Date } = {}): Promise<string> {
    return inventoryCsv(await this.list({ now: opts.now }), opts);
  }

  private async append(id: string, column: 'backups' | 'certificates' | 'facts', item: object, tx?: Store): Promise<void> {
    await this.write(tx, async (db) => {
      const row = await db.get<Record<string, string>>(`SELECT ${column} FROM keys WHERE id = ?`, [id]);
      if (!row) throw notFound(id);
      const list = JSON.parse(row[column]) as object[];
      list.push(item);
      await db.run(`UPDATE keys SET ${column} = ? WHERE id = ?`, [JSON.stringify(list), id]);
    });
  }

  private toKey(r: KeyRow, now: Date): InventoryKey {
    const purpose = r.purpose as KeyPurpose;
    const status = r.status as KeyStatus;
    const reasons: string[] = [];
    let weak = false;
    if (Object.hasOwn(this.policy.purposes, purpose)) {
      const report = checkKeyType(this.policy, { type: inventoryKeyType(r), purpose });
      weak = !report.ok;
      for (const v of report.errors) reasons.push(`${v.message} (rule ${v.rule})`);
    } else {
      weak = true;
      reasons.push(`'${r.purpose}' is not a purpose the current policy knows (rule purpose.known)`);
    }
    const overdue = status === 'active' && r.rotation_due !== null && new Date(r.rotation_due).getTime() < now.getTime();
    if (overdue) reasons.push(`Rotation was due on ${r.rotation_due!.slice(0, 10)}; run a key rotation ceremony (rule rotation.period).`);
    return {
      id: r.id,
      label: r.label,
      algorithm: r.algorithm as 'rsa' | 'ec',
      size: r.size,
      curve: r.curve,
      purpose,
      tokenLabel: r.token_label,
      tokenSerial: r.token_serial,
      fingerprint: r.fingerprint,
      createdAt: r.created_at,
      ceremonyId: r.ceremony_id,
      status,
      rotationDue: r.rotation_due,
      attributes: { extractable: false, sensitive: true, usage: [], ...(JSON.parse(r.attributes) as Partial<ExpectedAttributes>) },
      backups: JSON.parse(r.backups) as BackupRef[],
      certificates: JSON.parse(r.certificates) as CertRef[],
      facts: JSON.parse(r.facts) as Fact[],
      flags: { weak, overdue, reasons },
    };
  }
}

function collision(id: string, label: string, ceremonyId: string): KeyriteError {
  return new KeyriteError('KEY_ID_COLLISION', `The inventory already holds a key with id '${id}' (label '${label}', ceremony ${ceremonyId}). Key ids are never reused; allocate a new one.`, { details: { id } });
}

function notFound(id: string): KeyriteError {
  return new KeyriteError('KEY_NOT_FOUND', `The inventory has no key with id '${id}'. Check the id with 'keyrite inventory'.`, { details: { id } });
}
