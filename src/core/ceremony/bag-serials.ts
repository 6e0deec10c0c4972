import { KeyriteError } from '../errors';
import { SERIAL_HINT, SERIAL_PATTERN, splitSerials } from '../../shared/serial-rule';
import { custodianOf } from './actions/openpgp-enrolment';
import type { ActionContext } from './context';
import type { BagRow } from './types';

/** One sealed bag of the chain of custody: which bag holds which share, held by whom. */
export interface BagRecord {
  bag: string;
  shareIndex: number;
  custodian: string;
  custodianId: string | null;
}

/**
 * The shares handed out in this ceremony, one row per share in index order, with the custodian
 * who received it: the rows a `bags` statement field asks a serial for.
 */
export function bagRows(ctx: ActionContext): BagRow[] {
  const backup = ctx.state.backup;
  if (!backup) {
    throw new KeyriteError('CEREMONY_SCRIPT_ORDER', `Step '${ctx.step.title}' records the bags the shares are sealed in, but no shares were handed out before it. Put it after the hand-out step.`, { details: { step: ctx.step.id } });
  }
  const indices = ctx.state.handedOut.length > 0 ? [...ctx.state.handedOut].sort((a, b) => a - b) : backup.custodians.map((_, i) => i + 1);
  return indices.map((shareIndex) => {
    const custodian = backup.custodians[shareIndex - 1] ?? `custodian of share ${shareIndex}`;
    // By share index, not by name: two custodians may share a display name.
    return { shareIndex, custodian, custodianId: custodianOf(ctx, { index: shareIndex, custodian })?.id ?? null };
  });
}

/**
 * Reads the bag serials typed for `rows` (one per share, in share-index order, separated by spaces,
 * commas or semicolons). Each row is checked on its own, so the error names the one share whose
 * serial to read again (`details.row` is its share index). Values are never echoed: a PIN or share
 * word typed here by mistake must not reach the screen's error line.
 */
export function parseBagSerials(text: string, rows: BagRow[], field: { id: string; label: string }): BagRecord[] {
  const serials = splitSerials(text);
  if (serials.length !== rows.length) {
    throw new KeyriteError(
      'CEREMONY_BAG_COUNT',
      `'${field.label}': ${serials.length} bag serial(s) for ${rows.length} shares. Each custodian seals their share in a bag of their own: give one serial per share (shares ${rows.map((r) => r.shareIndex).join(', ')}, in that order).`,
      { details: { field: field.id, given: serials.length, expected: rows.length } },
    );
  }
  const seen = new Map<string, BagRow>();
  return rows.map((row, i) => {
    const bag = serials[i];
    const who = `share ${row.shareIndex} (${row.custodian})`;
    if (!SERIAL_PATTERN.test(bag)) {
      throw new KeyriteError('CEREMONY_BAG_SERIAL_INVALID', `The bag serial for ${who} is not a serial number: use ${SERIAL_HINT}. Read it from the bag again.`, { details: { field: field.id, row: row.shareIndex } });
    }
    const earlier = seen.get(bag.toUpperCase());
    if (earlier) {
      throw new KeyriteError(
        'CEREMONY_BAG_SERIAL_DUPLICATE',
        `The bag serial for ${who} is the same as for share ${earlier.shareIndex} (${earlier.custodian}). Every share is sealed in its own bag: read the serial on ${row.custodian}'s bag again.`,
        { details: { field: field.id, row: row.shareIndex, sameAs: earlier.shareIndex } },
      );
    }
    seen.set(bag.toUpperCase(), row);
    return { bag, shareIndex: row.shareIndex, custodian: row.custodian, custodianId: row.custodianId };
  });
}
