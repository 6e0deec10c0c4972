import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseBagSerials } from '../../src/core/ceremony/bag-serials';
import { scriptSchema } from '../../src/core/ceremony/script';
import { isKeyriteError } from '../../src/core/errors';
import { bagRowProblem } from '../../src/cli/terminal-driver';

const NAMES = ['Cora One', 'Carl Two', 'Cleo Three', 'Cyd Four', 'Cass Five'];
const rows = (n: number) => NAMES.slice(0, n).map((custodian, i) => ({ shareIndex: i + 1, custodian, custodianId: `c${i + 1}` }));
const FIELD = { id: 'bags', label: 'Tamper-evident bag serial' };

function refusal(text: string, n = 5): { code: string; message: string; details: Record<string, unknown> } {
  try {
    parseBagSerials(text, rows(n), FIELD);
  } catch (e) {
    if (isKeyriteError(e)) return { code: e.code, message: e.message, details: e.details ?? {} };
    throw e;
  }
  throw new Error(`'${text}' was accepted`);
}

const serial = fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9-]{2,20}$/);

describe('bag serials: one per share, each on its custodian\'s row', () => {
  it('maps each serial, in share order, to its share index and custodian', () => {
    expect(parseBagSerials('TEB-100 TEB-101, TEB-102;TEB-103\nTEB-104', rows(5), FIELD)).toEqual(
      NAMES.map((custodian, i) => ({ bag: `TEB-10${i}`, shareIndex: i + 1, custodian, custodianId: `c${i + 1}` })),
    );
  });

  it('refuses 3 serials for 5 custodians (the issue\'s case), and 6', () => {
    expect(refusal('BAG-1 BAG-2 BAG-3')).toMatchObject({ code: 'CEREMONY_BAG_COUNT', details: { given: 3, expected: 5 } });
    expect(refusal('BAG-1 BAG-2 BAG-3')).toMatchObject({ message: expect.stringContaining('3 bag serial(s) for 5 shares') });
    expect(refusal('BAG-1 BAG-2 BAG-3 BAG-4 BAG-5 BAG-6')).toMatchObject({ code: 'CEREMONY_BAG_COUNT', details: { given: 6 } });
    expect(refusal('')).toMatchObject({ code: 'CEREMONY_BAG_COUNT', details: { given: 0 } });
  });

  it('names the one bad row and never echoes what was typed', () => {
    const bad = refusal('BAG-1 BAG-2 B@G-3 BAG-4 BAG-5');
    expect(bad).toMatchObject({ code: 'CEREMONY_BAG_SERIAL_INVALID', details: { field: 'bags', row: 3 } });
    expect(bad.message).toContain('share 3 (Cleo Three)');
    expect(bad.message).not.toContain('B@G-3');
  });

  it('refuses a bag used twice, compared without case, naming both shares', () => {
    const dup = refusal('BAG-1 BAG-2 BAG-3 bag-2 BAG-5');
    expect(dup).toMatchObject({ code: 'CEREMONY_BAG_SERIAL_DUPLICATE', details: { row: 4, sameAs: 2 } });
    expect(dup.message).toContain('share 4 (Cyd Four)');
    expect(dup.message).toContain('share 2 (Carl Two)');
  });

  it('property: distinct valid serials are all kept in order; any repeated one is refused at its second row', () => {
    fc.assert(
      fc.property(fc.uniqueArray(serial, { minLength: 5, maxLength: 5, selector: (s) => s.toUpperCase() }), fc.integer({ min: 0, max: 4 }), fc.integer({ min: 0, max: 4 }), (serials, a, b) => {
        expect(parseBagSerials(serials.join(' '), rows(5), FIELD).map((r) => r.bag)).toEqual(serials);
        if (a === b) return;
        const copy = [...serials];
        copy[Math.max(a, b)] = copy[Math.min(a, b)].toLowerCase();
        expect(refusal(copy.join(' '))).toMatchObject({ code: 'CEREMONY_BAG_SERIAL_DUPLICATE', details: { row: Math.max(a, b) + 1, sameAs: Math.min(a, b) + 1 } });
      }),
      { seed: 1616, numRuns: 200 },
    );
  });

  it('property: one hostile row among good ones is refused with that row', () => {
    const hostile = fc.oneof(fc.constantFrom('-BAG', 'AB', 'BAG_1', 'BÄG-1', 'x'.repeat(65), 'bag.1', '"><script>'), fc.stringMatching(/^[^A-Za-z0-9\s,;][^\s,;]{0,8}$/));
    fc.assert(
      fc.property(hostile, fc.integer({ min: 0, max: 4 }), (h, at) => {
        const serials = ['BAG-1', 'BAG-2', 'BAG-3', 'BAG-4', 'BAG-5'];
        serials[at] = h;
        expect(refusal(serials.join(' '))).toMatchObject({ code: 'CEREMONY_BAG_SERIAL_INVALID', details: { row: at + 1 } });
      }),
      { seed: 1617, numRuns: 200 },
    );
  });

  it('the terminal row check agrees with the core (empty, malformed, another share\'s bag)', () => {
    const r = rows(5);
    expect(bagRowProblem('', 2, r, {})).toMatch(/Type the serial on the bag of share 2/);
    expect(bagRowProblem('B@G', 2, r, {})).toMatch(/letters, digits and dashes/);
    expect(bagRowProblem('bag-1', 2, r, { 1: 'BAG-1' })).toMatch(/bag of share 1 \(Cora One\)/);
    expect(bagRowProblem('BAG-2', 2, r, { 1: 'BAG-1', 2: 'BAG-2' })).toBeNull();
  });
});

describe('scripts: a bags field needs shares handed out before it', () => {
  const base = {
    id: 'bags-test', title: 'T', version: 1, description: 'd',
    roles: [{ id: 'admin', title: 'A', min: 1, max: 1 }],
  };
  it('refuses a bags field before any hand-out', () => {
    const r = scriptSchema.safeParse({ ...base, steps: [
      { id: 'check-in', title: 'c', say: 's', action: 'checkIn' },
      { id: 'bags', title: 'b', say: 's', action: 'recordStatement', fields: [{ id: 'bags', label: 'Bags', kind: 'bags' }] },
      { id: 'seal', title: 's', say: 's', action: 'seal' },
    ] });
    expect(r.success).toBe(false);
    expect(JSON.stringify(r.error?.issues)).toContain('no handOutShares step comes before step \'bags\'');
  });
});
