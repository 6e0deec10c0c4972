import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { appendFileSync, cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, truncateSync, unlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectHsm, type HsmConnection } from '../../src/core/hsm/connect';
import { findKeyPair, generateKeyPair, readKeyAttributes, selfTest } from '../../src/core/hsm/keygen';
import { parseKeyType } from '../../src/core/hsm/key-spec';
import {
  assertNoSecrets, createTranscriptKey, eventLine, hsmTranscriptSigner, makeEvent, parseTranscript, sealBundle, signTranscript, signTranscriptText, toPgpWords, verifyBundle,
  writeSealedBundle, type EventType, type SealResult, type TranscriptEvent, type TranscriptSigner,
} from '../../src/core/transcript';
import { createTestHsm } from '../helpers/softhsm';
import { runKeyrite } from '../helpers/cli';

const hsm = createTestHsm(['transcript']);
const work = mkdtempSync(path.join(os.tmpdir(), 'keyrite-transcript-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

const CEREMONY = 'c-2025-root-01';
const OTHER = 'c-2025-root-02';
/** buildCeremony() records this many events (the tamper table needs it before beforeAll runs). */
const EVENT_COUNT = 34;
// Secrets a ceremony handles; none may reach an event.
const SHARE_WORDS = 'abandon ability able about above absent absorb abstract absurd abuse access accident';
const KEK_HEX = '8f'.repeat(4) + '1c2d3e4f5a6b7c8d9e0f112233445566778899aabbccddeeff0011';

let conn: HsmConnection;
let signer: TranscriptSigner;
let otherSigner: TranscriptSigner;
let bundle: string;
let otherBundle: string;
let events: TranscriptEvent[];
let sealed: SealResult;

const sha256 = (data: string | Buffer): string => createHash('sha256').update(data).digest('hex');

/** A realistic root-key ceremony transcript: three people, five steps, a real key in the token. */
function buildCeremony(ceremony: string, dir: string, transcriptKey: { label: string; spkiPem: string; spkiSha256: string }): TranscriptEvent[] {
  const out: TranscriptEvent[] = [];
  let clock = Date.parse('2025-06-01T09:00:00.000Z');
  const emit = (type: EventType, data: Record<string, unknown>, step: string | null = null, actor: string | null = null): void => {
    clock += 17_000;
    out.push(makeEvent(out[out.length - 1] ?? null, { at: new Date(clock).toISOString(), ceremony, step, actor, type, data }));
  };
  const steps = [
    { id: 'preflight', title: 'Check the room and the HSM', say: 'The ceremony administrator confirms the room is closed and the laptop is offline.' },
    { id: 'checkin', title: 'Check in participants', say: 'Each participant states their name and role, and shows identification.' },
    { id: 'generate', title: 'Generate the root key', say: 'The HSM operator generates the root key. Witnesses watch the screen.' },
    { id: 'backup', title: 'Back up the root key', say: 'The key is wrapped under a new KEK, which is split into three shares.' },
    { id: 'seal', title: 'Seal the transcript', say: 'Everyone reads the final hash aloud and signs the printed transcript.' },
  ];
  const people = [
    { personId: 'p-ada', name: 'Ada Lovelace', roles: ['ceremony-administrator'] },
    { personId: 'p-grace', name: 'Grace Hopper', roles: ['hsm-operator', 'custodian'] },
    { personId: 'p-<w>', name: 'Whitfield <Diffie> & Co', roles: ['witness', 'custodian'] },
  ];
  emit('CEREMONY_STARTED', { scriptId: 'root-ca-keygen', scriptVersion: '1.2.0', scriptSha256: sha256('script'), title: `Root CA key generation ${ceremony}`, parameters: { keyType: 'ec-p384', shares: 3, threshold: 2 }, steps, appVersion: '0.1.0', demo: false });
  emit('TRANSCRIPT_KEY_CREATED', { ...transcriptKey, tokenLabel: conn.session.token.label, tokenSerial: conn.session.token.serial });
  const step = (i: number): string => steps[i].id;
  emit('STEP_STARTED', { index: 0, title: steps[0].title, say: steps[0].say }, step(0));
  emit('PREFLIGHT_RECORDED', { network: { interfacesUp: [], offline: true }, hsm: { tokenLabel: conn.session.token.label, tokenSerial: conn.session.token.serial }, clockUtc: true }, step(0));
  emit('STEP_CONFIRMED', { personId: 'p-ada', name: 'Ada Lovelace', role: 'ceremony-administrator' }, step(0), 'p-ada');
  emit('STEP_COMPLETED', { index: 0 }, step(0));
  emit('STEP_STARTED', { index: 1, title: steps[1].title, say: steps[1].say }, step(1));
  for (const p of people) emit('PARTICIPANT_CHECKED_IN', { ...p, identity: 'passport checked' }, step(1), p.personId);
  emit('STEP_CONFIRMED', { personId: 'p-<w>', name: people[2].name, role: 'witness' }, step(1), 'p-<w>');
  emit('STEP_COMPLETED', { index: 1 }, step(1));

  emit('STEP_STARTED', { index: 2, title: steps[2].title, say: steps[2].say }, step(2));
  emit('HSM_LOGIN', { user: 'user', tokenLabel: conn.session.token.label }, step(2), 'p-grace');
  const key = generateKeyPair(conn.session, { spec: parseKeyType('ec-p384'), label: `root-${ceremony}`, custody: 'wrap-untrusted' });
  emit('KEY_GENERATED', { keyId: `root-${ceremony}`, label: key.label, type: 'ec-p384', spkiSha256: key.publicInfo.fingerprint, attributes: key.attributes }, step(2), 'p-grace');
  for (const r of selfTest(conn.session, key)) emit('SELF_TEST_PASSED', { keyId: `root-${ceremony}`, ...r }, step(2));
  const pubPem = key.publicInfo.keyObject.export({ type: 'spki', format: 'pem' }).toString();
  mkdirSync(path.join(dir, 'keys'), { recursive: true });
  writeFileSync(path.join(dir, 'keys', `root-${ceremony}.pub.pem`), pubPem);
  emit('PUBLIC_KEY_EXPORTED', { keyId: `root-${ceremony}`, file: `keys/root-${ceremony}.pub.pem`, sha256: sha256(pubPem), spkiSha256: key.publicInfo.fingerprint }, step(2));
  for (const p of ['p-grace', 'p-<w>']) emit('STEP_CONFIRMED', { personId: p, name: people.find((x) => x.personId === p)!.name, role: p === 'p-grace' ? 'hsm-operator' : 'witness' }, step(2), p);
  emit('STEP_COMPLETED', { index: 2 }, step(2));

  emit('STEP_STARTED', { index: 3, title: steps[3].title, say: steps[3].say }, step(3));
  const backup = JSON.stringify({ format: 1, keyId: `root-${ceremony}`, wrapped: 'AAAA', kcv: '1a2b3c', splitId: '7F3A-91C2', threshold: 2, count: 3 }, null, 2) + '\n';
  mkdirSync(path.join(dir, 'backup'), { recursive: true });
  writeFileSync(path.join(dir, 'backup', `root-${ceremony}.backup.json`), backup);
  emit('BACKUP_WRITTEN', { keyId: `root-${ceremony}`, file: `backup/root-${ceremony}.backup.json`, sha256: sha256(backup), kcv: '1a2b3c', splitId: '7F3A-91C2' }, step(3));
  for (const [i, p] of ['p-grace', 'p-<w>', 'p-ada'].entries()) {
    emit('SHARE_ISSUED', { splitId: '7F3A-91C2', index: i + 1, custodian: p, shareDigest: sha256(`share ${i}`) }, step(3), p);
    emit('SHARE_CONFIRMED', { splitId: '7F3A-91C2', index: i + 1, custodian: p }, step(3), p);
  }
  emit('BACKUP_VERIFIED', { keyId: `root-${ceremony}`, kcv: '1a2b3c', method: 'rebuild-and-unwrap' }, step(3));
  emit('STEP_COMPLETED', { index: 3 }, step(3));

  emit('STEP_STARTED', { index: 4, title: steps[4].title, say: steps[4].say }, step(4));
  emit('STATEMENT_RECORDED', { text: 'No deviations from the script.' }, step(4), 'p-ada');
  const artifacts = [`keys/root-${ceremony}.pub.pem`, `backup/root-${ceremony}.backup.json`].map((p) => ({ path: p, sha256: sha256(readFileSync(path.join(dir, p))) }));
  emit('CEREMONY_SEALED', { events: out.length + 1, artifacts }, step(4));
  return out;
}

beforeAll(async () => {
  conn = connectHsm(hsm.config('transcript'));
  conn.session.login(hsm.userPin);
  bundle = path.join(work, 'bundle');
  otherBundle = path.join(work, 'other');
  mkdirSync(bundle);
  mkdirSync(otherBundle);
  const key = createTranscriptKey(conn.session, CEREMONY);
  signer = hsmTranscriptSigner(conn.session, CEREMONY);
  events = buildCeremony(CEREMONY, bundle, key);
  sealed = await sealBundle({ dir: bundle, events, signer });
  const otherKey = createTranscriptKey(conn.session, OTHER);
  otherSigner = hsmTranscriptSigner(conn.session, OTHER);
  await sealBundle({ dir: otherBundle, events: buildCeremony(OTHER, otherBundle, otherKey), signer: otherSigner });
});
afterAll(() => conn?.close());

const keyrite = (...args: string[]) => runKeyrite(args);

describe('transcript key', () => {
  it('is EC P-384, sign only, sensitive and never extractable (cannot be wrapped or backed up)', () => {
    const pair = findKeyPair(conn.session, `keyrite-transcript-${CEREMONY}`);
    expect(pair.publicInfo.curve).toBe('P-384');
    expect(readKeyAttributes(conn.session, pair.privateKey, pair.publicKey)).toMatchObject({
      token: true, private: true, sensitive: true, alwaysSensitive: true, extractable: false, neverExtractable: true, local: true,
      sign: true, decrypt: false, unwrap: false, derive: false, publicVerify: true, publicEncrypt: false, publicWrap: false,
    });
    expect(signer.spkiSha256).toBe(pair.publicInfo.fingerprint);
  });

  it('is refused a second time for the same ceremony (TRANSCRIPT_KEY_EXISTS)', () => {
    expect(() => createTranscriptKey(conn.session, CEREMONY)).toThrow(expect.objectContaining({ code: 'TRANSCRIPT_KEY_EXISTS' }));
  });

  it('refuses a ceremony id that cannot be a label, and a ceremony without a key', () => {
    expect(() => createTranscriptKey(conn.session, '../x')).toThrow(expect.objectContaining({ code: 'TRANSCRIPT_CEREMONY_ID_INVALID' }));
    expect(() => hsmTranscriptSigner(conn.session, 'c-none')).toThrow(expect.objectContaining({ code: 'TRANSCRIPT_KEY_NOT_FOUND' }));
  });
});

describe('a sealed ceremony bundle', () => {
  it('holds every file, listed in SHA256SUMS that sha256sum -c accepts', () => {
    expect(sealed.files).toEqual([
      `backup/root-${CEREMONY}.backup.json`, `keys/root-${CEREMONY}.pub.pem`,
      'transcript-key.pem', 'transcript.html', 'transcript.jsonl', 'transcript.sig', 'SHA256SUMS',
    ]);
    expect(execFileSync('sha256sum', ['-c', 'SHA256SUMS'], { cwd: bundle }).toString()).toMatch(/transcript\.jsonl: OK/);
  });

  it('writes transcript.jsonl as exactly the event lines, each ending with a newline', () => {
    expect(events.length).toBe(EVENT_COUNT);
    expect(readFileSync(path.join(bundle, 'transcript.jsonl'), 'utf8')).toBe(events.map((e) => eventLine(e) + '\n').join(''));
    expect(sealed.finalHash).toBe(events[events.length - 1].hash);
    expect(sealed.finalHashWords).toEqual(toPgpWords(Buffer.from(sealed.finalHash, 'hex')));
    expect(sealed.keyFingerprintWords).toHaveLength(32);
  });

  it('verifies with the documented openssl one-liner (DER ECDSA-SHA384)', () => {
    const out = execFileSync('openssl', ['dgst', '-sha384', '-verify', 'transcript-key.pem', '-signature', 'transcript.sig', 'transcript.jsonl'], { cwd: bundle }).toString();
    expect(out.trim()).toBe('Verified OK');
    const asn1 = execFileSync('openssl', ['asn1parse', '-inform', 'DER', '-in', 'transcript.sig'], { cwd: bundle }).toString();
    expect(asn1.match(/INTEGER/g)).toHaveLength(2);
  });

  it('verifies with keyrite verify, which prints the summary and exits 0', () => {
    const r = keyrite('verify', bundle);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toContain(`Root CA key generation ${CEREMONY}`);
    expect(r.stdout).toContain('Grace Hopper (p-grace) — hsm-operator, custodian');
    expect(r.stdout).toContain(`root-${CEREMONY}`);
    expect(r.stdout).toContain(sealed.finalHash.slice(0, 4) + ' ' + sealed.finalHash.slice(4, 8));
    expect(r.stdout).toContain(sealed.finalHashWords.slice(0, 8).join(' '));
    expect(r.stdout).toContain(`${events.length} events`);
    const json = JSON.parse(keyrite('verify', bundle, '--json').stdout);
    expect(json).toMatchObject({ ok: true, ceremony: CEREMONY, events: events.length, finalHash: sealed.finalHash, transcriptKeySpkiSha256: signer.spkiSha256 });
    expect(json.participants).toHaveLength(3);
    expect(json.keys).toEqual([expect.objectContaining({ keyId: `root-${CEREMONY}`, type: 'ec-p384', event: 'KEY_GENERATED' })]);
    expect(json.startedAt).toBe(events[0].at);
    expect(json.sealedAt).toBe(events[events.length - 1].at);
  });

  it('refuses to be sealed twice (TRANSCRIPT_ALREADY_SEALED) and leaves the files alone', async () => {
    const before = readFileSync(path.join(bundle, 'SHA256SUMS'));
    await expect(sealBundle({ dir: bundle, events, signer })).rejects.toMatchObject({ code: 'TRANSCRIPT_ALREADY_SEALED' });
    expect(readFileSync(path.join(bundle, 'SHA256SUMS'))).toEqual(before);
  });

  it('refuses to seal with another ceremony\'s key, or without CEREMONY_SEALED last', async () => {
    const dir = mkdtempSync(path.join(work, 'reseal-'));
    await expect(sealBundle({ dir, events, signer: otherSigner })).rejects.toMatchObject({ code: 'TRANSCRIPT_KEY_MISMATCH' });
    await expect(sealBundle({ dir, events: events.slice(0, -1), signer })).rejects.toMatchObject({ code: 'TRANSCRIPT_NOT_SEALED' });
  });

  it('carries no secrets: no PIN, KEK bytes or share words in any event', () => {
    for (const e of events) assertNoSecrets(e, [hsm.userPin, hsm.soPin, KEK_HEX, Buffer.from(KEK_HEX, 'hex').toString('base64'), SHARE_WORDS]);
    const text = readFileSync(path.join(bundle, 'transcript.jsonl'), 'utf8');
    expect(text).not.toContain(SHARE_WORDS);
    // The guard itself does catch a leak, without repeating the secret.
    const leaky = makeEvent(events[events.length - 2], { at: events[events.length - 1].at, ceremony: CEREMONY, step: null, actor: null, type: 'STATEMENT_RECORDED', data: { note: `pin was ${hsm.userPin}` } });
    expect(() => assertNoSecrets(leaky, [hsm.userPin])).toThrow(expect.objectContaining({ code: 'TRANSCRIPT_SECRET_LEAK', message: expect.not.stringContaining(hsm.userPin) }));
  });

  it('prints a self-contained transcript.html with steps, sign-offs, hash words and signature lines', () => {
    const html = readFileSync(path.join(bundle, 'transcript.html'), 'utf8');
    expect(html).not.toMatch(/<script/i);
    expect(html).not.toMatch(/\b(src|href)\s*=/i);
    expect(html).not.toMatch(/url\(/i);
    expect(html).toContain("default-src 'none'");
    expect(html).toContain(`Root CA key generation ${CEREMONY}`);
    expect(html).toContain('The HSM operator generates the root key. Witnesses watch the screen.');
    expect(html).toContain('Whitfield &lt;Diffie&gt; &amp; Co');
    expect(html).not.toContain('<Diffie>');
    for (const w of [...sealed.finalHashWords, ...sealed.keyFingerprintWords]) expect(html).toContain(`</span> ${w}</li>`);
    expect(html).toContain(sealed.finalHash.slice(0, 4) + ' ' + sealed.finalHash.slice(4, 8));
    expect(html.match(/class="sigline"/g)).toHaveLength(3 + 2);
    expect(html).toContain('openssl dgst -sha384 -verify transcript-key.pem -signature transcript.sig transcript.jsonl');
  });
});

describe('writing a bundle from a stored seal record', () => {
  it('checks the record\'s signature: a changed one or another ceremony\'s is refused, before and after a good one was written', async () => {
    const signed = await signTranscript(events, signer);
    const flipped = Buffer.from(signed.signature);
    flipped[flipped.length - 1] ^= 0x01;
    const other = await signTranscript(events, otherSigner).catch((e: unknown) => e);
    expect(other).toMatchObject({ code: 'TRANSCRIPT_KEY_MISMATCH' });
    const otherSig = await otherSigner.sign(Buffer.from(events.map((e) => eventLine(e) + '\n').join(''), 'utf8'));
    const records = [
      { ...signed, signature: flipped },
      { ...signed, signature: otherSig },
      { ...signed, publicKeyPem: otherSigner.publicKeyPem, signature: otherSig.subarray(0, otherSig.length - 1) },
    ];
    const dir = (name: string) => path.join(work, `from-record-${name}`);
    for (const [i, seal] of records.entries()) {
      await expect(writeSealedBundle({ dir: dir(`bad-before-${i}`), events, seal })).rejects.toMatchObject({ code: 'TRANSCRIPT_SIGNATURE_INVALID' });
    }
    // The good record twice (the second time it was checked a moment ago), then the bad ones again.
    for (const name of ['good-1', 'good-2']) {
      await writeSealedBundle({ dir: dir(name), events, seal: signed });
      expect(readFileSync(path.join(dir(name), 'transcript.sig')).equals(signed.signature)).toBe(true);
    }
    for (const [i, seal] of records.entries()) {
      await expect(writeSealedBundle({ dir: dir(`bad-after-${i}`), events, seal })).rejects.toMatchObject({ code: 'TRANSCRIPT_SIGNATURE_INVALID' });
    }
    // The same signature over other bytes: the last event changed (its hash kept, so only the bytes differ).
    const changed = [...events.slice(0, -1), { ...events[events.length - 1], at: '2031-01-01T00:00:00.000Z' }];
    await expect(writeSealedBundle({ dir: dir('other-bytes'), events: changed, seal: signed })).rejects.toMatchObject({ code: 'TRANSCRIPT_SIGNATURE_INVALID' });
  });
});

describe('signing the lines a store holds (signTranscriptText)', () => {
  const textOf = (lines: string[]): string => lines.map((l) => l + '\n').join('');
  it('signs the lines as they are and returns the events read from them', async () => {
    const text = textOf(events.map(eventLine));
    const signed = await signTranscriptText(text, signer);
    expect(signed.transcript.equals(Buffer.from(text, 'utf8'))).toBe(true);
    expect(signed.events).toEqual(events);
    expect(signed.finalHash).toBe(events[events.length - 1].hash);
  });

  it.each([
    // The same event with its members out of order: the same content, but not the line verify accepts.
    { name: 'a stored line not in canonical form', lines: () => events.map((e, i) => (i === 1 ? JSON.stringify(Object.fromEntries(Object.entries(e).reverse())) : eventLine(e))), code: 'TRANSCRIPT_NOT_CANONICAL' },
    { name: 'a line missing from the middle', lines: () => events.filter((_, i) => i !== 2).map(eventLine), code: 'TRANSCRIPT_SEQ' },
    { name: 'no CEREMONY_SEALED at the end', lines: () => events.slice(0, -1).map(eventLine), code: 'TRANSCRIPT_NOT_SEALED' },
  ])('refuses $name, before anything is signed', async ({ lines, code }) => {
    let signs = 0;
    const counting: TranscriptSigner = { ...signer, sign: (bytes) => ((signs += 1), signer.sign(bytes)) };
    await expect(signTranscriptText(textOf(lines()), counting)).rejects.toMatchObject({ code });
    expect(signs).toBe(0);
  });
});

describe('tampering is detected and named', () => {
  let n = 0;
  const copy = (): string => {
    const dir = path.join(work, `tamper-${++n}`);
    cpSync(bundle, dir, { recursive: true });
    return dir;
  };
  const jsonl = (dir: string): string => path.join(dir, 'transcript.jsonl');
  const lines = (dir: string): string[] => readFileSync(jsonl(dir), 'utf8').split('\n').slice(0, -1);
  const writeLines = (dir: string, ls: string[]): void => writeFileSync(jsonl(dir), ls.map((l) => l + '\n').join(''));

  type Case = [string, (dir: string) => void | Promise<void>, string, Record<string, unknown>];
  const cases: Case[] = [
    ['a changed byte in an event', (d) => {
      const buf = readFileSync(jsonl(d));
      const line12 = lines(d).slice(0, 11).join('\n').length + 1; // start of event 12
      const at = buf.indexOf('"data":{', line12) + 10;
      buf[at] = buf[at] === 0x61 ? 0x62 : 0x61;
      writeFileSync(jsonl(d), buf);
    }, 'TRANSCRIPT_EVENT_HASH', { seq: 12 }],
    ['a removed event', (d) => writeLines(d, lines(d).filter((_, i) => i !== 9)), 'TRANSCRIPT_SEQ', { seq: 11, line: 10 }],
    ['two events swapped', (d) => { const ls = lines(d); [ls[14], ls[15]] = [ls[15], ls[14]]; writeLines(d, ls); }, 'TRANSCRIPT_SEQ', { seq: 16, line: 15 }],
    ['an event appended after sealing', (d) => {
      const extra = makeEvent(events[events.length - 1], { at: '2025-06-01T23:00:00.000Z', ceremony: CEREMONY, step: null, actor: 'p-ada', type: 'STATEMENT_RECORDED', data: { text: 'added later' } });
      appendFileSync(jsonl(d), eventLine(extra) + '\n');
    }, 'TRANSCRIPT_EVENT_AFTER_SEAL', { seq: EVENT_COUNT + 1 }],
    ['a file truncated mid-line', (d) => truncateSync(jsonl(d), readFileSync(jsonl(d)).length - 25), 'TRANSCRIPT_TRUNCATED', { line: EVENT_COUNT }],
    ['a file truncated at a line end', (d) => writeLines(d, lines(d).slice(0, 20)), 'TRANSCRIPT_TRUNCATED', { seq: 20 }],
    ['non-JSON lines', (d) => { const ls = lines(d); ls[6] = 'Tampered: this line is not JSON'; writeLines(d, ls); }, 'TRANSCRIPT_NOT_JSON', { line: 7 }],
    ['bytes that are not UTF-8', (d) => { const buf = readFileSync(jsonl(d)); buf[lines(d)[0].length + 40] = 0xff; writeFileSync(jsonl(d), buf); }, 'TRANSCRIPT_NOT_JSON', { line: 2 }],
    ['transcript.sig from another ceremony', (d) => cpSync(path.join(otherBundle, 'transcript.sig'), path.join(d, 'transcript.sig')), 'TRANSCRIPT_SIGNATURE_INVALID', { file: 'transcript.sig' }],
    ['transcript.sig that is not a signature', (d) => writeFileSync(path.join(d, 'transcript.sig'), 'garbage'), 'TRANSCRIPT_SIGNATURE_INVALID', { file: 'transcript.sig' }],
    ['transcript-key.pem swapped for another key', (d) => cpSync(path.join(otherBundle, 'transcript-key.pem'), path.join(d, 'transcript-key.pem')), 'TRANSCRIPT_KEY_MISMATCH', { file: 'transcript-key.pem', seq: 2 }],
    ['another key and a valid signature by it', async (d) => {
      cpSync(path.join(otherBundle, 'transcript-key.pem'), path.join(d, 'transcript-key.pem'));
      writeFileSync(path.join(d, 'transcript.sig'), await otherSigner.sign(readFileSync(jsonl(d))));
    }, 'TRANSCRIPT_KEY_MISMATCH', { file: 'transcript-key.pem' }],
    ['a bundle file changed after sealing', (d) => appendFileSync(path.join(d, 'transcript.html'), '<!-- edited -->'), 'BUNDLE_FILE_CHANGED', { file: 'transcript.html' }],
    ['a key file changed together with SHA256SUMS', (d) => {
      const rel = `keys/root-${CEREMONY}.pub.pem`;
      writeFileSync(path.join(d, rel), readFileSync(path.join(otherBundle, `keys/root-${OTHER}.pub.pem`)));
      const sums = readFileSync(path.join(d, 'SHA256SUMS'), 'utf8').replace(/^[0-9a-f]{64}(?= {2}keys\/)/m, sha256(readFileSync(path.join(d, rel))));
      writeFileSync(path.join(d, 'SHA256SUMS'), sums);
    }, 'BUNDLE_FILE_CHANGED', { file: `keys/root-${CEREMONY}.pub.pem`, seq: 18 }],
    ['a missing file', (d) => unlinkSync(path.join(d, `backup/root-${CEREMONY}.backup.json`)), 'BUNDLE_FILE_MISSING', { file: `backup/root-${CEREMONY}.backup.json` }],
    ['a missing transcript-key.pem', (d) => unlinkSync(path.join(d, 'transcript-key.pem')), 'BUNDLE_FILE_MISSING', { file: 'transcript-key.pem' }],
    ['a missing SHA256SUMS', (d) => unlinkSync(path.join(d, 'SHA256SUMS')), 'BUNDLE_FILE_MISSING', { file: 'SHA256SUMS' }],
    ['a missing transcript.sig', (d) => unlinkSync(path.join(d, 'transcript.sig')), 'TRANSCRIPT_NOT_SEALED', { file: 'transcript.sig' }],
    ['a file added after sealing', (d) => writeFileSync(path.join(d, 'keys', 'extra.pem'), 'x'), 'BUNDLE_FILE_UNLISTED', { file: 'keys/extra.pem' }],
    ['a damaged SHA256SUMS', (d) => appendFileSync(path.join(d, 'SHA256SUMS'), 'not a sum line\n'), 'BUNDLE_SUMS_INVALID', { file: 'SHA256SUMS' }],
    ['an empty bundle folder', (d) => { rmSync(d, { recursive: true }); mkdirSync(d); }, 'BUNDLE_EMPTY', {}],
  ];

  it.each(cases)('%s', async (_name, tamper, code, details) => {
    const dir = copy();
    await tamper(dir);
    const error = await verifyBundle(dir).then(() => null, (e: unknown) => e);
    expect(error).toMatchObject({ code, details: expect.objectContaining(details) });
  });

  it('keyrite verify exits 1 with a one-line reason naming the first bad event', () => {
    const dir = copy();
    const ls = lines(dir);
    ls[11] = ls[11].replace('"index":', '"index":1');
    writeLines(dir, ls);
    expect(() => parseTranscript(readFileSync(jsonl(dir), 'utf8'))).toThrow();
    const r = keyrite('verify', dir);
    expect(r.status).toBe(1);
    // stdout says what to do next (the file and event, keep the evidence, whom to call); stderr is the reason.
    expect(r.stdout).toMatch(/^THE BUNDLE DID NOT VERIFY\. What to do next:\n/);
    expect(r.stdout).toContain(`The problem is in transcript.jsonl (event 12) in ${dir}.`);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/Event 12 \(line 12, .*\) does not match its own hash.*\[TRANSCRIPT_EVENT_HASH\]/);
  });

  it('keyrite verify names the bad file', () => {
    const dir = copy();
    unlinkSync(path.join(dir, `keys/root-${CEREMONY}.pub.pem`));
    const r = keyrite('verify', dir);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain(`keys/root-${CEREMONY}.pub.pem`);
    expect(r.stderr).toContain('[BUNDLE_FILE_MISSING]');
  });

  it('keyrite verify on a folder that does not exist', () => {
    const r = keyrite('verify', path.join(work, 'nope'));
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('[BUNDLE_NOT_FOUND]');
  });
});
