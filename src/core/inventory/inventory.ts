import { KeyriteError } from '../errors';
import { rotationDue, type KeyPolicy, type KeyPurpose } from '../policy';
import type { Store } from '../store/db';
import { KeyRecords, type KeyRecord } from '../store/key-records';
import { inventoryCsv, type CsvOptions } from './csv';
import { keyFlags } from './flags';
import { formatKeyId, KEY_ID_EXAMPLE } from '../keys/key-types';
import { KEY_ID_RE, inventoryKeyType, keyIdTagFor } from './key-id';
import { statusTransitionAllowed } from './lifecycle';
import { KEY_STATUSES, type BackupRef, type CertRef, type ExpectedAttributes, type Fact, type InventoryKey, type KeyStatus, type NewInventoryKey, type StatusChange } from './types';

const iso = (d: Date | string): string => (typeof d === 'string' ? new Date(d).toISOString() : d.toISOString());

/**
 * The key inventory: every key a ceremony made, its lifecycle, backups, certificates and facts,
 * read through the current key policy (weak and overdue flags). It checks and fills in what a
 * new key needs; src/core/store/key-records.ts only persists. Every write takes an optional
 * `tx` (see KeyRecords) so inventory changes commit with the ceremony step that caused them.
 */
export class Inventory {
  readonly records: KeyRecords;

  constructor(
    readonly store: Store,
    readonly policy: KeyPolicy,
  ) {
    this.records = new KeyRecords(store);
  }

  /**
   * Next key id `<alg>-<year>-<nn>` (numbers are never reused, even for destroyed keys or claimed
   * ones). Not itself a claim: a ceremony takes its id with claimKeyId.
   */
  async allocateKeyId(type: string, year: number, tx?: Store): Promise<string> {
    const tag = keyIdTagFor(type);
    if (!Number.isInteger(year) || year < 2000 || year > 9999) {
      throw new KeyriteError('KEY_ID_YEAR_INVALID', `${year} is not a valid year for a key id.`, { details: { year } });
    }
    const prefix = `${tag}-${year}-`;
    let max = 0;
    for (const id of await this.records.idsStartingWith(prefix, tx)) {
      const m = KEY_ID_RE.exec(id);
      if (m && m[1] === tag && Number(m[2]) === year) max = Math.max(max, Number(m[3]));
    }
    return formatKeyId(tag, year, max + 1);
  }

  /**
   * The key id of a ceremony step's key, allocated and claimed in one store transaction, so
   * ceremonies running side by side never get the same number (and so never the same label on
   * the token). The step asked again (a resume after a crash) gets its own claim back.
   */
  async claimKeyId(type: string, year: number, owner: { ceremonyId: string; stepId: string; at: Date }): Promise<string> {
    return this.store.transaction(async (tx) => {
      const held = await this.records.claimedKeyId(owner.ceremonyId, owner.stepId, tx);
      if (held) return held;
      const keyId = await this.allocateKeyId(type, year, tx);
      await this.records.claimKeyId({ keyId, ceremonyId: owner.ceremonyId, stepId: owner.stepId, at: iso(owner.at) }, tx);
      return keyId;
    });
  }

  async add(key: NewInventoryKey, tx?: Store): Promise<void> {
    if (!KEY_ID_RE.test(key.id)) {
      throw new KeyriteError('KEY_ID_INVALID', `'${key.id}' is not a key id. Key ids look like ${KEY_ID_EXAMPLE} (<alg>-<year>-<nn>); use allocateKeyId.`, { details: { id: key.id } });
    }
    const tag = keyIdTagFor(inventoryKeyType({ algorithm: key.algorithm, size: key.size, curve: key.curve ?? null }));
    if (KEY_ID_RE.exec(key.id)![1] !== tag) {
      throw new KeyriteError('KEY_ID_MISMATCH', `Key id '${key.id}' does not match the key (${tag}); allocate an id for the key's own type.`, { details: { id: key.id, tag } });
    }
    if (!key.ceremonyId) throw new KeyriteError('KEY_CEREMONY_MISSING', `Key '${key.id}' cannot enter the inventory without the id of the ceremony that made it.`, { details: { id: key.id } });
    if (!Object.hasOwn(this.policy.purposes, key.purpose)) {
      throw new KeyriteError('KEY_PURPOSE_UNKNOWN', `'${key.purpose}' is not a key purpose. Use one of: ${Object.keys(this.policy.purposes).join(', ')}.`, { details: { id: key.id } });
    }
    const createdAt = iso(key.createdAt);
    const due = key.rotationDue === undefined ? rotationDue(this.policy, key.purpose, new Date(createdAt)).toISOString() : key.rotationDue === null ? null : iso(key.rotationDue);
    const attributes: ExpectedAttributes = {
      extractable: key.attributes?.extractable ?? false,
      sensitive: key.attributes?.sensitive ?? true,
      usage: key.attributes?.usage ?? [...this.policy.purposes[key.purpose].usage],
    };
    await this.records.insert(
      {
        id: key.id,
        label: key.label,
        algorithm: key.algorithm,
        size: key.size,
        curve: key.curve ?? null,
        purpose: key.purpose,
        tokenLabel: key.tokenLabel,
        tokenSerial: key.tokenSerial,
        fingerprint: key.fingerprint.toLowerCase(),
        createdAt,
        ceremonyId: key.ceremonyId,
        status: key.status ?? 'active',
        rotationDue: due,
        attributes,
        backups: key.backups ?? [],
        certificates: key.certificates ?? [],
        facts: key.facts ?? [],
      },
      tx,
    );
  }

  async get(id: string): Promise<InventoryKey | undefined> {
    return this.withFlags(await this.records.get(id), new Date());
  }

  /** The key with this SPKI fingerprint (the oldest, if a key was restored into a second token). */
  async findByFingerprint(hex: string): Promise<InventoryKey | undefined> {
    return this.withFlags(await this.records.findByFingerprint(hex), new Date());
  }

  /** The key with this label that is not destroyed, else the newest destroyed one. */
  async findByLabel(label: string): Promise<InventoryKey | undefined> {
    return this.withFlags(await this.records.findByLabel(label), new Date());
  }

  async list(opts: { now?: Date } = {}): Promise<InventoryKey[]> {
    const now = opts.now ?? new Date();
    return (await this.records.list()).map((r) => this.withFlags(r, now));
  }

  history(id: string): Promise<StatusChange[]> {
    return this.records.history(id);
  }

  /** Change a key's status, only through a ceremony, recorded in key_status_history. */
  async setStatus(id: string, to: KeyStatus, ceremonyId: string, reason?: string, tx?: Store): Promise<void> {
    if (!KEY_STATUSES.includes(to)) {
      throw new KeyriteError('KEY_STATUS_UNKNOWN', `'${to}' is not a key status. Use one of: ${KEY_STATUSES.join(', ')}.`, { details: { id, to } });
    }
    if (!ceremonyId) {
      throw new KeyriteError('KEY_CEREMONY_MISSING', `The status of key '${id}' changes only through a ceremony; no ceremony id was given.`, { details: { id, to } });
    }
    await this.records.setStatus(id, to, ceremonyId, reason ?? null, (from) => {
      if (statusTransitionAllowed(from, to)) return;
      const why = from === to ? `it is already ${to}` : from === 'destroyed' ? 'a destroyed key stays destroyed' : from === 'compromised' ? 'a compromised key can only be destroyed' : 'keys only move forward: active → retiring → archived → destroyed, or to compromised';
      throw new KeyriteError('KEY_STATUS_TRANSITION', `Key '${id}' cannot go from ${from} to ${to}: ${why}.`, { details: { id, from, to } });
    }, tx);
  }

  addBackup(id: string, ref: BackupRef, tx?: Store): Promise<void> {
    return this.records.append(id, 'backups', ref, tx);
  }

  addCertificate(id: string, ref: CertRef, tx?: Store): Promise<void> {
    return this.records.append(id, 'certificates', ref, tx);
  }

  addFact(id: string, fact: Fact, tx?: Store): Promise<void> {
    return this.records.append(id, 'facts', { ...fact, at: fact.at ?? new Date().toISOString() }, tx);
  }

  /** RFC 4180 CSV: the legacy key-inventory.csv columns first (id, algorithm, size, created, status), then the rest. */
  async toCsv(opts: CsvOptions & { now?: Date } = {}): Promise<string> {
    return inventoryCsv(await this.list({ now: opts.now }), opts);
  }

  private withFlags(r: KeyRecord, now: Date): InventoryKey;
  private withFlags(r: KeyRecord | undefined, now: Date): InventoryKey | undefined;
  private withFlags(r: KeyRecord | undefined, now: Date): InventoryKey | undefined {
    return r && { ...r, purpose: r.purpose as KeyPurpose, flags: keyFlags(this.policy, r, now) };
  }
}
