import type { ActionName } from '../types';
import type { ActionHandler } from '../context';
import { exportPublicKey, issueCrossCert, issueCsr, issueRootCert } from './export';
import { destroyKey, generateKey, hsmLogin, selfTest, updateKeyStatus } from './keys';
import { checkIn, preflight, recordStatement } from './people';
import { seal } from './seal';
import { collectShares, createBackup, handOutShares, proveIdentity, resplitShares, restoreBackup } from './shares';

/** The fixed set of actions a script may name, each a small module of its own. */
export const HANDLERS: Record<ActionName, ActionHandler> = {
  preflight, checkIn, hsmLogin, generateKey, selfTest, createBackup, handOutShares, collectShares,
  restoreBackup, proveIdentity, exportPublicKey, issueRootCert, issueCsr, issueCrossCert, destroyKey,
  recordStatement, resplitShares, updateKeyStatus, seal,
};
