// The key inventory on top of the store: policy checks and defaults for new keys, the weak and
// overdue flags, the CSV export and reconciling with what is on a token.
export { inventoryCsv, type CsvOptions } from './csv';
export { keyFlags } from './flags';
export { Inventory } from './inventory';
export { KEY_ID_RE, inventoryKeyType, keyIdTagFor } from './key-id';
export { statusTransitionAllowed } from './lifecycle';
export { reconcileInventory, type Drift, type DriftKind } from './reconcile';
export { KEY_STATUSES, type BackupRef, type CertRef, type ExpectedAttributes, type Fact, type InventoryKey, type KeyFlags, type KeyStatus, type NewInventoryKey, type StatusChange } from './types';
