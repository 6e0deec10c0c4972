import fc from 'fast-check';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SPLIT_WIDE_WORDS, confirmPositions } from '../../src/core/ceremony/actions/shares';
import { AnswersDriver } from '../../src/core/ceremony/answers';
import type { CeremonyService } from '../../src/core/ceremony/service';
import { ceremoniesDir } from '../../src/core/ceremony/script';
import type { CeremonyView, StepInput } from '../../src/core/ceremony/types';
import { answersFor, openService, PEOPLE, tempDir, ROOT_SUBJECT } from '../helpers/ceremony';
import { createTestHsm } from '../helpers/softhsm';

// A share is shown once, to one person: on a real SoftHSM token and a real store, a later view
// never carries it, a re-show goes back through the privacy gate and is recorded, the read-back
// asks only words unique to the share and names the wrong one; sign-offs are typed and recorded
// with how they were made; key generation says what cannot be undone.
const hsm = createTestHsm(['gate']);
const home = tempDir('gate-home');
let service: CeremonyService;
let view: CeremonyView;
const driver = new AnswersDriver(answersFor(hsm));

beforeAll(async () => {
  service = await openService(home, hsm.config('gate'));
  view = await service.start({ script: path.join(ceremoniesDir(), 'root-key-generation.yaml'), outDir: path.join(tempDir('gate-out'), 'bundle'), parameters: { ...ROOT_SUBJECT, threshold: 3, count: 5 } });
});
afterAll(async () => service?.close());

const events = async () => (await service.runner(view.ceremonyId)).events();
const give = async (input: StepInput) => {
  view = await service.provide(view.ceremonyId, input);
  return view;
};
async function until(stop: (v: CeremonyView) => boolean, custom?: (v: CeremonyView) => StepInput | undefined): Promise<void> {
  for (let guard = 0; guard < 300 && !stop(view); guard++) {
    await give(custom?.(view) ?? driver.next(view)!);
    expect(view.lastError, JSON.stringify(view.lastError)).toBeNull();
  }
  if (!stop(view)) throw new Error('never reached the wanted screen');
}
const phase = (p: string) => (v: CeremonyView) => v.current?.need.kind === 'shareHandout' && v.current.need.phase === p;

describe('check-in and sign-offs', () => {
  it('check-in asks for exactly as many custodians as the backup has shares', () => {
    const need = view.current!.need;
    if (need.kind !== 'participants') throw new Error('not at check-in');
    expect(need.roles.find((r) => r.id === 'custodian')).toMatchObject({ min: 5, max: 5 });
    expect(need.roles.find((r) => r.id === 'officer')).toMatchObject({ min: 1, max: 3 });
  });

  it('a sign-off states its attestation, refuses a name that is not the signer\'s, and records how it was made', async () => {
    await until((v) => v.current?.need.kind === 'signoff');
    const need = view.current!.need;
    if (need.kind !== 'signoff') throw new Error('no sign-off');
    expect(need.attestation).toMatch(/^I (saw|have heard) step \d+, ".+"/);
    const role = Object.keys(need.remaining)[0];
    const person = PEOPLE.find((p) => p.roles.includes(role))!;
    const other = PEOPLE.find((p) => !p.roles.includes(role))!;
    await give({ kind: 'signoff', personId: person.id, role, typed: other.name, method: 'typed-name' });
    expect(view.lastError).toMatchObject({ code: 'CEREMONY_SIGNOFF_NAME_MISMATCH' });
    await give({ kind: 'signoff', personId: person.id, role, method: 'typed-name' });
    expect(view.lastError).toMatchObject({ code: 'CEREMONY_SIGNOFF_NOT_TYPED' });
    const initials = person.name.split(' ').map((w) => w[0]).join('. ');
    await give({ kind: 'signoff', personId: person.id, role, typed: initials, method: 'typed-initials' });
    expect(view.lastError).toBeNull();
    const confirmed = (await events()).filter((e) => e.type === 'STEP_CONFIRMED');
    expect(confirmed.at(-1)!.data).toMatchObject({ personId: person.id, role, method: 'typed-initials', attestation: need.attestation });
  });
});

describe('irreversible acts', () => {
  it('key generation names the token and asks to be confirmed by typing', async () => {
    await until((v) => v.current?.id === 'generate-key' && v.current.need.kind === 'continue');
    expect(view.current!.need).toMatchObject({ kind: 'continue', irreversible: { act: 'generate', tokenLabel: 'gate', keyType: expect.any(String) } });
  });
});

describe('share hand-out', () => {
  let shown: string[] = [];

  it('shows the share only in the answer that revealed it', async () => {
    await until(phase('reveal'));
    shown = [...view.revealedShare!.words];
    expect(shown).toHaveLength(33);
    const later = await service.view(view.ceremonyId);
    expect(later.revealedShare).toBeUndefined();
    expect(later.current!.need).toMatchObject({ kind: 'shareHandout', phase: 'reveal', shareIndex: 1 });
  });

  it('a re-show goes back through the privacy gate and is recorded', async () => {
    await give({ kind: 'shareReshow' });
    expect(view.current!.need).toMatchObject({ phase: 'privacy', shareIndex: 1 });
    expect(view.revealedShare).toBeUndefined();
    await give({ kind: 'shareAck' });
    expect(view.revealedShare!.words).toEqual(shown);
    const types = (await events()).map((e) => e.type);
    expect(types.filter((t) => t === 'SHARE_ISSUED')).toHaveLength(1);
    expect(types.slice(-2)).toEqual(['SHARE_RESHOW_REQUESTED', 'SHARE_REDISPLAYED']);
    const last = (await events()).slice(-2);
    expect(last[0].data).toMatchObject({ index: 1, from: 'reveal', reshow: 1 });
    expect(JSON.stringify(last)).not.toContain(shown.slice(5, 8).join(''));
  });

  it('reads back only words unique to the share, names the wrong word, and takes 4-letter prefixes', async () => {
    await give({ kind: 'shareAck' });
    const need = view.current!.need;
    if (need.kind !== 'shareHandout' || need.phase !== 'confirm') throw new Error('not at the read-back');
    const positions = need.confirmPositions!;
    expect(positions.length).toBe(4);
    expect(positions.every((p) => p >= SPLIT_WIDE_WORDS)).toBe(true);
    const words = positions.map((p) => shown[p]);
    const bad = [...words];
    bad[2] = shown[positions[2]] === 'zoo' ? 'zone' : 'zoo';
    await give({ kind: 'shareConfirm', words: bad });
    expect(view.lastError).toMatchObject({ code: 'SHARE_CONFIRM_MISMATCH', details: { positions: [positions[2] + 1] } });
    expect(view.lastError!.message).toContain(`Word ${positions[2] + 1} is not word ${positions[2] + 1} of share 1`);
    expect(view.lastError!.message).not.toContain('on the screen');
    expect(view.current!.need).toMatchObject({ phase: 'confirm', confirmPositions: positions });
    await give({ kind: 'shareConfirm', words: words.map((w) => w.slice(0, 4).toUpperCase()) });
    expect(view.lastError).toBeNull();
    expect(view.current!.need).toMatchObject({ phase: 'privacy', shareIndex: 2 });
  });

  it('from the read-back, a re-show also goes through the gate and asks new positions after', async () => {
    await until(phase('confirm'));
    const before = (view.current!.need as { confirmPositions: number[] }).confirmPositions;
    await give({ kind: 'shareReshow' });
    expect(view.current!.need).toMatchObject({ phase: 'privacy', shareIndex: 2 });
    expect((await events()).at(-1)!.data).toMatchObject({ index: 2, from: 'confirm' });
    await give({ kind: 'shareAck' });
    expect(view.revealedShare).toBeDefined();
    await give({ kind: 'shareAck' });
    expect(view.current!.need).toMatchObject({ phase: 'confirm', shareIndex: 2 });
    expect(Array.isArray((view.current!.need as { confirmPositions: number[] }).confirmPositions)).toBe(true);
    expect(before.length).toBe(4);
  });
});

describe('read-back positions', () => {
  it('k distinct sorted positions among the share\'s own words, or the whole card', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 27 }), fc.integer(), (k, seed) => {
        let x = seed >>> 0;
        const pick = (max: number) => {
          x = (Math.imul(x, 1103515245) + 12345) >>> 0;
          return x % max;
        };
        const p = confirmPositions(33, k, pick);
        expect(p).toHaveLength(k);
        expect(new Set(p).size).toBe(k);
        expect([...p].sort((a, b) => a - b)).toEqual(p);
        expect(p.every((i) => i >= SPLIT_WIDE_WORDS && i < 33)).toBe(true);
      }),
      { seed: 16, numRuns: 300 },
    );
    expect(confirmPositions(33, 'all')).toEqual([...Array(33).keys()]);
    expect(confirmPositions(33, 28)).toEqual([...Array(33).keys()]);
    expect(confirmPositions(33, 0)).toEqual([...Array(33).keys()]);
  });
});
