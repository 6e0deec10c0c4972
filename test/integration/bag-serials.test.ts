import { cpSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AnswersDriver } from '../../src/core/ceremony/answers';
import type { CeremonyService } from '../../src/core/ceremony/service';
import type { CeremonyView } from '../../src/core/ceremony/types';
import { answersFor, answerUntil, openService, PEOPLE, ROOT_SUBJECT, tempDir } from '../helpers/ceremony';
import { runKeyrite } from '../helpers/cli';
import { createTestHsm } from '../helpers/softhsm';

// Bag serials on a real SoftHSM token, a real store and a real sealed bundle: one row per share
// handed out, pre-filled from the hand-out, refused row by row, recorded as a bag ↔ share ↔
// custodian mapping in the transcript and its printable page.
const hsm = createTestHsm(['bags']);
const home = tempDir('bags-home');
let service: CeremonyService;

beforeAll(async () => {
  service = await openService(home, hsm.config('bags'));
});
afterAll(async () => service?.close());

const until = (view: CeremonyView, driver: AnswersDriver, stop: (v: CeremonyView) => boolean): Promise<CeremonyView> => answerUntil(service, view, driver, stop);

const CUSTODIANS = PEOPLE.filter((p) => p.roles.includes('custodian'));

describe('sealing the share cards in root key generation', () => {
  let view: CeremonyView;
  const bundle = path.join(tempDir('bags-out'), 'bundle');
  const driver = new AnswersDriver(answersFor(hsm));

  it('asks one row per share handed out, pre-filled with its index and custodian', async () => {
    view = await service.start({ script: 'root-key-generation', outDir: bundle, parameters: { threshold: 3, count: 5, ...ROOT_SUBJECT } });
    view = await until(view, driver, (v) => v.current?.id === 'seal-shares' && v.current.need.kind === 'statement');
    const need = view.current!.need;
    if (need.kind !== 'statement') throw new Error('not a statement');
    const bags = need.fields.find((f) => f.id === 'bags')!;
    expect(bags.kind).toBe('bags');
    expect(bags.rows).toEqual(CUSTODIANS.map((c, i) => ({ shareIndex: i + 1, custodian: c.name, custodianId: c.id })));
    expect(need.fields.find((f) => f.id === 'remarks')).toMatchObject({ kind: 'text', required: false });
  });

  it('refuses 3 serials for 5 custodians, a bad row and a duplicate, each with its code, recording nothing', async () => {
    const id = view.ceremonyId;
    const statements = async () => (await (await service.runner(id)).events()).filter((e) => e.type === 'STATEMENT_RECORDED').length;
    const cases: Array<[string, string, Record<string, unknown>]> = [
      ['BAG-1 BAG-2 BAG-3', 'CEREMONY_BAG_COUNT', { given: 3, expected: 5 }],
      ['BAG-1 BAG-2 BAG-3 BAG-4 B?G', 'CEREMONY_BAG_SERIAL_INVALID', { row: 5 }],
      ['BAG-1 BAG-2 BAG-3 BAG-2 BAG-5', 'CEREMONY_BAG_SERIAL_DUPLICATE', { row: 4, sameAs: 2 }],
    ];
    for (const [bags, code, details] of cases) {
      view = await service.provide(id, { kind: 'statement', values: { bags } });
      expect(view.lastError).toMatchObject({ code, details });
      expect(view.current?.id).toBe('seal-shares');
    }
    expect(await statements()).toBe(0);
    const errors = (await (await service.runner(id)).events()).filter((e) => e.type === 'ERROR_RECORDED').map((e) => e.data.code);
    expect(errors.slice(-3)).toEqual(cases.map((c) => c[1]));
  });

  it('records the bag ↔ share ↔ custodian mapping, and transcript.html prints it', async () => {
    view = await service.provide(view.ceremonyId, { kind: 'statement', values: { bags: 'TEB-0101 TEB-0102 TEB-0103 TEB-0104 TEB-0105', remarks: 'bag TEB-0099 tore; replaced' } });
    expect(view.lastError).toBeNull();
    view = await until(view, driver, (v) => v.status === 'sealed');
    const events = readFileSync(path.join(bundle, 'transcript.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { type: string; step: string; data: Record<string, unknown> });
    const st = events.find((e) => e.type === 'STATEMENT_RECORDED')!;
    expect(st.step).toBe('seal-shares');
    const split = events.find((e) => e.type === 'BACKUP_WRITTEN')!.data.splitId;
    expect(st.data).toMatchObject({
      fields: { bags: 'TEB-0101 TEB-0102 TEB-0103 TEB-0104 TEB-0105', remarks: 'bag TEB-0099 tore; replaced' },
      splitId: split,
      bags: CUSTODIANS.map((c, i) => ({ bag: `TEB-010${i + 1}`, shareIndex: i + 1, custodian: c.name, custodianId: c.id })),
    });
    const html = readFileSync(path.join(bundle, 'transcript.html'), 'utf8');
    expect(html).toContain('Chain of custody: sealed share bags');
    for (const [i, c] of CUSTODIANS.entries()) expect(html).toMatch(new RegExp(`<tr><td><code>TEB-010${i + 1}</code></td><td>${i + 1}</td><td>${c.name}</td>`));
    // verify renders transcript.html again from the signed events and requires the same bytes.
    const r = runKeyrite(['verify', bundle]);
    expect(r.status, r.stderr).toBe(0);
  });

  it('a tampered copy: verify names the file and event, says keep the evidence and whom to call', () => {
    const copy = path.join(tempDir('bags-tampered'), 'bundle');
    cpSync(bundle, copy, { recursive: true });
    const file = path.join(copy, 'transcript.jsonl');
    const lines = readFileSync(file, 'utf8').split('\n');
    const at = lines.findIndex((l) => l.includes('"STATEMENT_RECORDED"'));
    lines[at] = lines[at].replace('TEB-0103', 'TEB-0999');
    writeFileSync(file, lines.join('\n'));
    const r = runKeyrite(['verify', copy]);
    expect(r.status).not.toBe(0);
    expect(r.errorCode).toBe('TRANSCRIPT_EVENT_HASH');
    const advice = r.stdout.slice(r.stdout.indexOf('What to do next'));
    expect(advice).toContain(`The problem is in transcript.jsonl (event ${at + 1}) in ${copy}.`);
    expect(advice).toMatch(/Keep this copy as evidence: do not open it in an editor/);
    expect(advice).toContain('Call the ceremony administrator and the security officer who signed the paper transcript, and give them the error code TRANSCRIPT_EVENT_HASH.');
    // stderr is still the one-line reason with its code.
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr.trim()).toMatch(/\[TRANSCRIPT_EVENT_HASH\]$/);
    // Not a real bundle (no folder): no tamper advice, just the reason.
    const none = runKeyrite(['verify', path.join(copy, 'nope')]);
    expect(none.errorCode).toBe('BUNDLE_NOT_FOUND');
    expect(none.stdout).not.toContain('What to do next');
  });
});
