import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AnswersDriver } from '../../src/core/ceremony/answers';
import type { CeremonyService } from '../../src/core/ceremony/service';
import type { CeremonyView } from '../../src/core/ceremony/types';
import { ceremoniesDir, loadScript } from '../../src/core/ceremony/script';
import { isKeyriteError } from '../../src/core/errors';
import { assertNoSecrets } from '../../src/core/transcript';
import { answersFor, answerUntil, openService, tempDir, ROOT_SUBJECT } from '../helpers/ceremony';
import { scanForSecrets } from '../helpers/secrets';
import { createTestHsm } from '../helpers/softhsm';

// Share cards on a real SoftHSM token and a real store: printable only while a share is shown,
// only where the script allows it, recorded without the words, and never written anywhere.
const hsm = createTestHsm(['cards', 'nocards']);
const home = tempDir('cards-home');
let service: CeremonyService;

beforeAll(async () => {
  service = await openService(home, hsm.config('cards'));
});
afterAll(async () => service?.close());

type Stop = (v: CeremonyView) => boolean;

const until = (view: CeremonyView, driver: AnswersDriver, stop: (v: CeremonyView) => boolean): Promise<CeremonyView> => answerUntil(service, view, driver, stop);

const handout = (phase: 'privacy' | 'reveal' | 'confirm', index?: number): Stop => (v) =>
  v.current?.need.kind === 'shareHandout' && v.current.need.phase === phase && (index === undefined || v.current.need.shareIndex === index);

async function refusal(id: string): Promise<{ code: string; message: string }> {
  try {
    await service.shareCard(id);
  } catch (e) {
    if (isKeyriteError(e)) return { code: e.code, message: e.message };
    throw e;
  }
  throw new Error('shareCard did not refuse');
}

async function cardEvents(id: string) {
  return (await (await service.runner(id)).events()).filter((e) => e.type === 'SHARE_CARD_PRINTED');
}

describe('share cards where the script allows them (root key generation)', () => {
  let view: CeremonyView;
  let bundle: string;
  const driver = new AnswersDriver(answersFor(hsm));
  const printedWords: string[][] = [];

  beforeAll(async () => {
    bundle = path.join(tempDir('cards-out'), 'bundle');
    view = await service.start({ script: 'root-key-generation', outDir: bundle, parameters: { ...ROOT_SUBJECT, threshold: 3, count: 5 } });
  });

  it('is refused before the hand-out, saying when it is possible', async () => {
    expect(view.current?.need.kind).toBe('participants');
    const r = await refusal(view.ceremonyId);
    expect(r.code).toBe('SHARE_CARD_UNAVAILABLE');
    expect(r.message).toContain('only while a share is shown');
  });

  it('is refused on the privacy screen (the room has not looked away yet); the need says cards are allowed', async () => {
    view = await until(view, driver, handout('privacy'));
    expect(view.current!.need).toMatchObject({ kind: 'shareHandout', shareCards: true });
    const before = (await (await service.runner(view.ceremonyId)).events()).length;
    const r = await refusal(view.ceremonyId);
    expect(r).toMatchObject({ code: 'SHARE_CARD_UNAVAILABLE' });
    expect(r.message).toContain('only while the share is shown on screen');
    expect((await (await service.runner(view.ceremonyId)).events()).length).toBe(before);
  });

  it('during the reveal: the card holds the header, custodian and every word, and SHARE_CARD_PRINTED is committed without them', async () => {
    view = await service.provide(view.ceremonyId, driver.next(view)!);
    expect(handout('reveal')(view)).toBe(true);
    const shown = view.revealedShare!;
    const card = await service.shareCard(view.ceremonyId);
    const need = view.current!.need;
    if (need.kind !== 'shareHandout') throw new Error('not at a hand-out');
    expect(card.index).toBe(need.shareIndex);
    expect(card.custodian).toBe(shown.custodian);
    expect(card.html).toContain(shown.header);
    expect(card.html).toContain(shown.custodian);
    expect(card.html).toContain('Root key generation');
    expect(card.html.match(/<li>([a-z]+)<\/li>/g)!.map((li) => li.slice(4, -5))).toEqual(shown.words);
    expect(card.html).toContain('<svg');
    printedWords.push(shown.words);

    const events = await cardEvents(view.ceremonyId);
    expect(events).toHaveLength(1);
    const splitId = (await (await service.runner(view.ceremonyId)).events()).find((e) => e.type === 'BACKUP_WRITTEN')!.data.splitId;
    expect(events[0].data).toEqual({ index: card.index, custodian: shown.custodian, splitId });
    expect(events[0].actor).toBe('c1');
    expect(events[0].step).toBe('hand-out-shares');
    assertNoSecrets(events[0], [shown.words.join(' ')]);
    expect(JSON.stringify(events[0])).not.toContain(shown.words.slice(0, 3).join(' '));

    // Printing again (a jammed printer) is allowed and recorded again; the screen is unchanged.
    await service.shareCard(view.ceremonyId);
    expect(await cardEvents(view.ceremonyId)).toHaveLength(2);
    // A later view (another screen, a reload) never carries the share again: a re-show goes
    // back through the privacy gate.
    const again = await service.view(view.ceremonyId);
    expect(again.revealedShare).toBeUndefined();
    expect(again.current?.need).toMatchObject({ phase: 'reveal' });
  });

  it('is refused once the share is hidden (confirm phase) and after the hand-out', async () => {
    view = await service.provide(view.ceremonyId, driver.next(view)!);
    expect(handout('confirm')(view)).toBe(true);
    expect(await refusal(view.ceremonyId)).toMatchObject({ code: 'SHARE_CARD_UNAVAILABLE' });
    view = await until(view, driver, (v) => v.current?.id !== 'hand-out-shares' || v.current.need.kind === 'signoff');
    expect(await refusal(view.ceremonyId)).toMatchObject({ code: 'SHARE_CARD_UNAVAILABLE' });
  });

  it('the ceremony seals with the card events in its transcript, and no word of a printed card is on disk', async () => {
    view = await until(view, driver, (v) => v.status === 'sealed');
    const lines = readFileSync(path.join(bundle, 'transcript.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { type: string });
    expect(lines.filter((e) => e.type === 'SHARE_CARD_PRINTED')).toHaveLength(2);
    expect(await refusal(view.ceremonyId)).toMatchObject({ code: 'SHARE_CARD_UNAVAILABLE', message: expect.stringContaining('is sealed') });
    const hits = scanForSecrets([home, bundle, hsm.tokenDir], printedWords.map((w) => w.join(' ')), { shareWords: printedWords.flat() });
    expect(hits).toEqual([]);
  });
});

describe('share cards where the script does not allow them', () => {
  it('SHARE_CARD_NOT_ALLOWED even while the share is shown; nothing is recorded; the need says so', async () => {
    const text = readFileSync(path.join(ceremoniesDir(), 'root-key-generation.yaml'), 'utf8');
    expect(text).toContain('shareCards: true');
    const file = path.join(tempDir('cards-script'), 'no-cards.yaml');
    writeFileSync(file, text.replace('shareCards: true', 'shareCards: false'));
    const own = await openService(tempDir('nocards-home'), hsm.config('nocards'));
    try {
      const driver = new AnswersDriver(answersFor(hsm));
      let v = await own.start({ script: file, outDir: path.join(tempDir('nocards-out'), 'bundle'), parameters: { ...ROOT_SUBJECT, threshold: 3, count: 5 } });
      for (let guard = 0; guard < 300 && !handout('reveal')(v); guard++) v = await own.provide(v.ceremonyId, driver.next(v)!);
      expect(v.revealedShare).toBeDefined();
      expect(v.current!.need).toMatchObject({ kind: 'shareHandout', phase: 'reveal', shareCards: false });
      const err = await own.shareCard(v.ceremonyId).then(() => null, (e: unknown) => e);
      expect(isKeyriteError(err) && err.code).toBe('SHARE_CARD_NOT_ALLOWED');
      expect((err as Error).message).toContain('does not allow printed share cards');
      const events = await (await own.runner(v.ceremonyId)).events();
      expect(events.some((e) => e.type === 'SHARE_CARD_PRINTED')).toBe(false);
    } finally {
      await own.close();
    }
  });
});

describe('the shipped scripts that hand out shares allow cards', () => {
  it.each(['root-key-generation', 'key-rotation', 'share-rotation'])('%s: its handOutShares step says shareCards: true', (id) => {
    const steps = loadScript(id).script.steps.filter((s) => s.action === 'handOutShares');
    expect(steps).toHaveLength(1);
    expect(steps[0].with?.shareCards).toBe(true);
  });
});
