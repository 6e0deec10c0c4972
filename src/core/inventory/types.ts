import type { KeyPurpose } from '../policy';
import type { BackupRef, CertRef, ExpectedAttributes, Fact, KeyRecord, KeyStatus } from '../store/key-records';

export { KEY_STATUSES, type BackupRef, type CertRef, type ExpectedAttributes, type Fact, type KeyStatus, type StatusChange } from '../store/key-records';

/** Why the current policy frowns on a key: too weak for its purpose, or past its rotation date. */
export interface KeyFlags {
  weak: boolean;
  overdue: boolean;
  reasons: string[];
}

/** A key as the inventory shows it: the stored record, its purpose narrowed, and the policy's flags. */
export interface InventoryKey extends Omit<KeyRecord, 'purpose'> {
  purpose: KeyPurpose;
  flags: KeyFlags;
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
