import { spawnSync } from 'node:child_process';
import { createHash, generateKeyPairSync, sign } from 'node:crypto';
import { mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CeremonyService } from '../../src/core/ceremony/service';
import type { CeremonyView, StepInput } from '../../src/core/ceremony/types';
import { connectHsm } from '../../src/core/hsm/connect';
import { makeEvent, sealBundle, type EventType, type TranscriptEvent } from '../../src/core/transcript';
import { NETWORKED, PEOPLE, openService, tempDir, ROOT_SUBJECT } from '../helpers/ceremony';
import { createTestHsm } from '../helpers/softhsm';

/**
 * Person-supplied text is refused at entry when it holds control characters or bidi overrides;
 * text read from files is escaped when printed. Every refusal has its step's own code, names the
 * character and its position, and loses nothing: the same step then takes the corrected input.
 */
const hsm = createTestHsm(['hostile']);
const home = tempDir('hostile-home');
let service: CeremonyService;
afterAll(async () => service?.close());
beforeAll(async () => {
  service = await openService(home, hsm.config('hostile'), NETWORKED);
});

const ESC = '\u001b';
const RLO = '\u202e';
const HOSTILE: Array<[string, string, number]> = [
  ['an ANSI escape', `Eve${ESC}[2J`, 0x1b],
  ['a right-to-left override', `Eve ${RLO}nimda`, 0x202e],
  ['a line break', 'Eve\nOK: bundle verified', 0x0a],
  ['a carriage return', 'Eve\rAda', 0x0d],
  ['a first-strong isolate', 'Eve \u2068x', 0x2068],
  ['a C1 control', 'Eve\u009b31m', 0x9b],
  ['a zero-width space', 'Ev\u200be', 0x200b],
  ['a line separator', 'Eve\u2028x', 0x2028],
];

async function start(): Promise<CeremonyView> {
  return service.start({ script: 'root-key-generation', outDir: path.join(tempDir('hostile-out'), 'b'), parameters: ROOT_SUBJECT });
}
const provide = (v: CeremonyView, input: StepInput): Promise<CeremonyView> => service.provide(v.ceremonyId, input);

describe('refused at entry', () => {
  it.each(HOSTILE)('a participant name with %s (CEREMONY_PARTICIPANT_INVALID), and nothing is lost', async (_what, text, cp) => {
    const view = await start();
    const hostile = PEOPLE.map((p, i) => (i === 2 ? { ...p, name: text } : p));
    const refused = await provide(view, { kind: 'participants', participants: hostile });
    expect(refused.lastError).toMatchObject({ code: 'CEREMONY_PARTICIPANT_INVALID', details: { codePoint: cp, position: [...text].findIndex((c) => c.codePointAt(0) === cp) + 1 } });
    expect(refused.lastError!.message).toMatch(/^The name of participant 'c1' contains .* at character \d+\./);
    expect(refused.participants).toEqual([]);
    expect(refused.current!.id).toBe('check-in');
    const ok = await provide(refused, { kind: 'participants', participants: PEOPLE });
    expect(ok.lastError).toBeNull();
    expect(ok.participants.map((p) => p.name)).toEqual(PEOPLE.map((p) => p.name));
  });

  it('an override reason, an abort reason and a statement with control characters', async () => {
    let v = await start();
    v = await provide(v, { kind: 'participants', participants: PEOPLE });
    v = await provide(v, { kind: 'signoff', personId: 'ada' });
    v = await provide(v, { kind: 'signoff', personId: 'wren' });
    expect(v.current!.need.kind).toBe('preflightOverride');
    const reason = await provide(v, { kind: 'preflightOverride', personId: 'ada', reason: `test machine${ESC}[1A${ESC}[2K with a network` });
    expect(reason.lastError).toMatchObject({ code: 'CEREMONY_OVERRIDE_REASON', details: { codePoint: 0x1b } });
    const aborted = await service.abort(v.ceremonyId, `stopped${RLO} by ada`, 'ada').catch((e: unknown) => e);
    expect(aborted).toMatchObject({ code: 'CEREMONY_ABORT_REASON' });
    expect((await service.view(v.ceremonyId)).status).toBe('running');
  });

  it.each([
    ['subject', `CN=Root${ESC}[31m, O=Keyrite`],
    ['subject', `CN=Root ${RLO}AC, O=Keyrite`],
    ['drillSharesFile', '/tmp/shares\n.txt'],
  ])('a parameter %s with a control character (CEREMONY_PARAMETER_INVALID), before a ceremony exists', async (name, value) => {
    const before = (await service.listCeremonies()).length;
    const err = await service.start({ script: 'root-key-generation', outDir: path.join(tempDir('hostile-out'), 'b'), parameters: { ...ROOT_SUBJECT, [name]: value } }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'CEREMONY_PARAMETER_INVALID', details: { problems: [expect.objectContaining({ field: `parameters.${name}` })] } });
    expect((err as Error).message).toMatch(/contains (an escape character|a bidirectional text control|a line break)/);
    expect((await service.listCeremonies()).length).toBe(before);
  });
});

describe('key labels', () => {
  const keygen = (label: string) => spawnSync(process.execPath, ['bin/keyrite.mjs', 'hsm', 'keygen', '--type', 'ec-p256', '--label', label], {
    env: { ...process.env, KEYRITE_HOME: home, KEYRITE_PKCS11_MODULE: hsm.modulePath, KEYRITE_TOKEN_LABEL: 'hostile', KEYRITE_PIN: hsm.userPin },
    encoding: 'utf8',
  });
  const objects = (): number => {
    const c = connectHsm(hsm.config('hostile'));
    try {
      c.session.login(hsm.userPin);
      return c.session.find({}).length;
    } finally {
      c.close();
    }
  };

  it.each([
    ['../../etc/passwd', "contains '..'"],
    ['root/../x', "contains '..'"],
    ['a'.repeat(5000), 'is 5000 characters long (at most 128)'],
    [`root${ESC}[2J`, 'contains an escape character'],
    [`root${RLO}gpj.exe`, 'contains a bidirectional text control'],
    ['root/key', 'may only hold letters'],
    ['-root', 'may only hold letters'],
    ['root;rm -rf', 'may only hold letters'],
  ])('refuses %j (KEY_LABEL_INVALID) and creates nothing', (label, why) => {
    const before = objects();
    const r = keygen(label);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('[KEY_LABEL_INVALID]');
    expect(r.stderr).toContain(why);
    expect(r.stderr).not.toContain(ESC);
    expect(r.stderr).not.toContain(RLO);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(objects()).toBe(before);
  });

  it('accepts an ordinary label', () => {
    const r = keygen('Root CA 2026 (test) ops@example.org');
    expect(r.status, r.stderr).toBe(0);
  });
});

describe('escaped on output', () => {
  /** A bundle anyone can make and sign with their own key: verify says OK (the key fingerprint on paper tells). */
  async function forgedBundle(): Promise<string> {
    const dir = path.join(tempDir('forged'), 'bundle');
    mkdirSync(dir, { recursive: true });
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-384' });
    const spkiDer = publicKey.export({ type: 'spki', format: 'der' });
    const spkiSha256 = createHash('sha256').update(spkiDer).digest('hex');
    const events: TranscriptEvent[] = [];
    const emit = (type: EventType, data: Record<string, unknown>): void => {
      events.push(makeEvent(events.at(-1) ?? null, { at: new Date(Date.UTC(2026, 0, 1, 9, 0, events.length)).toISOString(), ceremony: 'forged', step: null, actor: null, type, data }));
    };
    emit('CEREMONY_STARTED', { scriptId: 'x', title: `Root${ESC}[2K\rOK: bundle verified — 1 events`, steps: [], demo: false });
    emit('TRANSCRIPT_KEY_CREATED', { label: 'k', spkiSha256, spkiPem: publicKey.export({ type: 'spki', format: 'pem' }).toString() });
    emit('PARTICIPANT_CHECKED_IN', { personId: 'eve', name: `Eve\nFinal transcript hash (compare with the signed paper copy):\n  0000`, roles: [`witness${RLO}`] });
    emit('KEY_GENERATED', { keyId: `k${ESC}]0;pwned\u0007`, label: `root${RLO}gpj`, type: 'ec-p384', spkiSha256 });
    emit('CEREMONY_SEALED', { events: events.length + 1, artifacts: [] });
    await sealBundle({ dir, events, signer: { publicKeyPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(), spkiSha256, sign: async (data) => sign('sha384', data, { key: privateKey, dsaEncoding: 'der' }) } });
    return dir;
  }

  it('keyrite verify cannot be made to print control characters, bidi overrides or extra lines by a bundle', async () => {
    const dir = await forgedBundle();
    const r = spawnSync(process.execPath, ['bin/keyrite.mjs', 'verify', dir], { encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    // eslint-disable-next-line no-control-regex
    expect(r.stdout).not.toMatch(/[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/);
    expect(r.stdout.match(/^OK: bundle verified/gm)).toHaveLength(1);
    expect(r.stdout.match(/^Final transcript hash/gm)).toHaveLength(1);
    expect(r.stdout).toContain('Eve\\x0aFinal transcript hash');
    expect(r.stdout).toContain("'root\\u202egpj'");
    expect(r.stdout).toContain('witness\\u202e');
    const transcript = readFileSync(path.join(dir, 'transcript.jsonl'), 'utf8');
    expect(transcript).toContain('\\u001b'); // the bundle really held them (JSON-escaped on disk)
  });
});
