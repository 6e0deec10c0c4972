import { KeyriteError, isKeyriteError } from '../errors';
import type { Store } from './db';

// The keys table and its status history: rows in, rows out. What the rows mean — policy checks,
// defaults, weak/overdue flags, CSV, reconciling with a token — is src/core/inventory/'s job.

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

/** A key as the store holds it; the inventory adds the policy's flags (src/core/inventory/flags.ts). */
export interface KeyRecord {
  id: string;
  label: string;
  algorithm: 'rsa' | 'ec';
  /** RSA modulus bits, or EC field bits (384 for P-384). */
  size: number;
  curve: string | null;
  purpose: string;
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
}

export interface StatusChange {
  keyId: string;
  at: string;
  from: KeyStatus | null;
  to: KeyStatus;
  ceremonyId: string;
  reason: string | null;
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

/**
 * Every write takes an optional `tx`: the ceremony runner passes the Store of its own transaction
 * so inventory changes commit with the step that caused them; without it, each call is its own
 * transaction.
 */
export class KeyRecords {
  constructor(readonly store: Store) {}

  private write<T>(tx: Store | undefined, fn: (db: Store) => Promise<T>): Promise<T> {
    return tx ? fn(tx) : this.store.transaction(fn);
  }

  /** Ids that start with `prefix`, of keys and of claims (for allocating the next number of a key id). */
  async idsStartingWith(prefix: string, tx?: Store): Promise<string[]> {
    const rows = await (tx ?? this.store).all<{ id: string }>(
      'SELECT id FROM keys WHERE substr(id, 1, ?) = ? UNION SELECT key_id FROM key_id_claims WHERE substr(key_id, 1, ?) = ?',
      [prefix.length, prefix, prefix.length, prefix],
    );
    return rows.map((r) => r.id);
  }

  /** The key id a ceremony's step claimed, if it did. */
  async claimedKeyId(ceremonyId: string, stepId: string, tx?: Store): Promise<string | undefined> {
    return (await (tx ?? this.store).get<{ key_id: string }>('SELECT key_id FROM key_id_claims WHERE ceremony_id = ? AND step_id = ?', [ceremonyId, stepId]))?.key_id;
  }

  /** Every claimed key id and the ceremony that claimed it. */
  async claims(tx?: Store): Promise<Array<{ keyId: string; ceremonyId: string }>> {
    const rows = await (tx ?? this.store).all<{ key_id: string; ceremony_id: string }>('SELECT key_id, ceremony_id FROM key_id_claims');
    return rows.map((r) => ({ keyId: r.key_id, ceremonyId: r.ceremony_id }));
  }

  /** Record that a ceremony's step took `keyId` (the caller allocated it in the same transaction). */
  async claimKeyId(claim: { keyId: string; ceremonyId: string; stepId: string; at: string }, tx: Store): Promise<void> {
    await tx.run('INSERT INTO key_id_claims (key_id, ceremony_id, step_id, claimed_at) VALUES (?, ?, ?, ?)', [claim.keyId, claim.ceremonyId, claim.stepId, claim.at]);
  }

  /**
   * Insert a key (every default already filled in by the inventory) and its first history entry;
   * an id already taken is KEY_ID_COLLISION.
   */
  async insert(key: KeyRecord, tx?: Store): Promise<void> {
    await this.write(tx, async (db) => {
      const existing = await db.get<{ label: string; ceremony_id: string }>('SELECT label, ceremony_id FROM keys WHERE id = ?', [key.id]);
      if (existing) throw collision(key.id, existing.label, existing.ceremony_id);
      try {
        await db.run(
          `INSERT INTO keys (id, label, algorithm, size, curve, purpose, token_label, token_serial, fingerprint, created_at, ceremony_id, status, rotation_due, attributes, backups, certificates, facts)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
          [key.id, key.label, key.algorithm, key.size, key.curve, key.purpose, key.tokenLabel, key.tokenSerial, key.fingerprint, key.createdAt, key.ceremonyId, key.status, key.rotationDue,
            JSON.stringify(key.attributes), JSON.stringify(key.backups), JSON.stringify(key.certificates), JSON.stringify(key.facts)],
        );
      } catch (e) {
        // Another writer took the id between the check and the insert.
        if (isKeyriteError(e) && /constraint/i.test(String((e.cause as Error | undefined)?.message))) throw collision(key.id, '?', '?');
        throw e;
      }
      await db.run('INSERT INTO key_status_history (key_id, at, from_status, to_status, ceremony_id, reason) VALUES (?, ?, NULL, ?, ?, ?)', [key.id, key.createdAt, key.status, key.ceremonyId, 'created']);
    });
  }

  async get(id: string): Promise<KeyRecord | undefined> {
    const row = await this.store.get<KeyRow>('SELECT * FROM keys WHERE id = ?', [id]);
    return row ? toRecord(row) : undefined;
  }

  /** The key with this SPKI fingerprint (the oldest, if a key was restored into a second token). */
  async findByFingerprint(hex: string): Promise<KeyRecord | undefined> {
    const row = await this.store.get<KeyRow>('SELECT * FROM keys WHERE fingerprint = ? ORDER BY created_at, id LIMIT 1', [hex.replace(/[:\s]/g, '').toLowerCase()]);
    return row ? toRecord(row) : undefined;
  }

  /** The key with this label that is not destroyed, else the newest destroyed one. */
  async findByLabel(label: string): Promise<KeyRecord | undefined> {
    const row = await this.store.get<KeyRow>("SELECT * FROM keys WHERE label = ? ORDER BY status = 'destroyed', created_at DESC, id DESC LIMIT 1", [label]);
    return row ? toRecord(row) : undefined;
  }

  async list(): Promise<KeyRecord[]> {
    return (await this.store.all<KeyRow>('SELECT * FROM keys ORDER BY created_at, id')).map(toRecord);
  }

  async history(id: string): Promise<StatusChange[]> {
    const rows = await this.store.all<{ key_id: string; at: string; from_status: string | null; to_status: string; ceremony_id: string; reason: string | null }>(
      'SELECT * FROM key_status_history WHERE key_id = ? ORDER BY rowid', [id]);
    return rows.map((r) => ({ keyId: r.key_id, at: r.at, from: r.from_status as KeyStatus | null, to: r.to_status as KeyStatus, ceremonyId: r.ceremony_id, reason: r.reason }));
  }

  /**
   * Move a key to `to` and record it, in one transaction. `allowed` sees the current status
   * inside that transaction and throws when the move is not allowed.
   */
  async setStatus(id: string, to: KeyStatus, ceremonyId: string, reason: string | null, allowed: (from: KeyStatus) => void, tx?: Store): Promise<void> {
    await this.write(tx, async (db) => {
      const row = await db.get<{ status: KeyStatus }>('SELECT status FROM keys WHERE id = ?', [id]);
      if (!row) throw keyNotFound(id);
      allowed(row.status);
      await db.run('UPDATE keys SET status = ? WHERE id = ?', [to, id]);
      await db.run('INSERT INTO key_status_history (key_id, at, from_status, to_status, ceremony_id, reason) VALUES (?, ?, ?, ?, ?, ?)', [id, new Date().toISOString(), row.status, to, ceremonyId, reason]);
    });
  }

  /** Append one entry to a key's backups, certificates or facts. */
  async append(id: string, column: 'backups' | 'certificates' | 'facts', item: object, tx?: Store): Promise<void> {
    await this.write(tx, async (db) => {
      const row = await db.get<Record<string, string>>(`SELECT ${column} FROM keys WHERE id = ?`, [id]);
      if (!row) throw keyNotFound(id);
      const list = JSON.parse(row[column]) as object[];
      list.push(item);
      await db.run(`UPDATE keys SET ${column} = ? WHERE id = ?`, [JSON.stringify(list), id]);
    });
  }
}

function toRecord(r: KeyRow): KeyRecord {
  return {
    id: r.id,
    label: r.label,
    algorithm: r.algorithm as 'rsa' | 'ec',
    size: r.size,
    curve: r.curve,
    purpose: r.purpose,
    tokenLabel: r.token_label,
    tokenSerial: r.token_serial,
    fingerprint: r.fingerprint,
    createdAt: r.created_at,
    ceremonyId: r.ceremony_id,
    status: r.status as KeyStatus,
    rotationDue: r.rotation_due,
    attributes: { extractable: false, sensitive: true, usage: [], ...(JSON.parse(r.attributes) as Partial<ExpectedAttributes>) },
    backups: JSON.parse(r.backups) as BackupRef[],
    certificates: JSON.parse(r.certificates) as CertRef[],
    facts: JSON.parse(r.facts) as Fact[],
  };
}

function collision(id: string, label: string, ceremonyId: string): KeyriteError {
  return new KeyriteError('KEY_ID_COLLISION', `The inventory already holds a key with id '${id}' (label '${label}', ceremony ${ceremonyId}). Key ids are never reused; allocate a new one.`, { details: { id } });
}

export function keyNotFound(id: string): KeyriteError {
  return new KeyriteError('KEY_NOT_FOUND', `The inventory has no key with id '${id}'. Check the id with 'keyrite inventory'.`, { details: { id } });
}
