import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { PEOPLE, ROOT_SUBJECT, tempDir } from '../helpers/ceremony';
import { runKeyrite, type CliResult } from '../helpers/cli';
import { createTestHsm } from '../helpers/softhsm';

/**
 * A PKCS#11 attribute audit from the outside: after each kind of ceremony, every object on the
 * token is listed with OpenSC's `pkcs11-tool` and read attribute by attribute by
 * test/outsider/token_objects.py (ctypes straight onto the module, public keys rebuilt by Python
 * `cryptography`) — no Keyrite or pkcs11js code reads the token here — and checked against what
 * docs/formats.md ("KEK handling and attribute choices", "Transcript key"), docs/hsm-notes.md
 * ("What a ceremony leaves on the token") and docs/crash-safety.md promise.
 */
const hsm = createTestHsm(['audit-root', 'audit-drill', 'audit-kill', 'audit-abort', 'audit-cut-1', 'audit-cut-2', 'audit-cut-3']);
const home = tempDir('audit-home');
const answers = path.join(tempDir('audit-answers'), 'answers.yaml');
writeFileSync(answers, stringify({
  participants: PEOPLE,
  preflightOverride: { personId: 'ada', reason: 'test machine with a network interface' },
  statements: { 'seal-shares': { bags: 'BAG-1 BAG-2 BAG-3 BAG-4 BAG-5' } },
}));
const OUTSIDER = path.resolve(__dirname, '../outsider/token_objects.py');

const keyrite = (token: string, args: string[], extra: Record<string, string> = {}): CliResult => runKeyrite(args, {
  // Not the demo token: the PINs come from the environment, never from the answers file.
  env: { KEYRITE_HOME: home, KEYRITE_PKCS11_MODULE: hsm.modulePath, KEYRITE_TOKEN_LABEL: token, KEYRITE_PIN: hsm.userPin, KEYRITE_SO_PIN: hsm.soPin, ...extra },
  timeout: 60_000,
});

/** One object as the outsider reads it: null where the token has no such attribute. */
interface TokenObject {
  class: 'data' | 'certificate' | 'public' | 'private' | 'secret' | 'other';
  keyType: 'rsa' | 'ec' | 'aes' | null;
  label: string | null;
  id: string | null;
  spki: string | null;
  [flag: string]: boolean | string | null;
}

/** One object as `pkcs11-tool --list-objects` prints it. */
interface ToolObject {
  kind: string;
  label?: string;
  id?: string;
  ecPoint?: string;
  usage: string[];
  access: string[];
}

const tool = (args: string[]): string => execFileSync('pkcs11-tool', ['--module', hsm.modulePath, ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });

/** pkcs11-tool's listing, logged in, of the token labelled `token` (found by label: slot ids are random). */
function slotOf(token: string): string {
  const slot = [...tool(['-L']).matchAll(/^Slot \d+ \((0x[0-9a-f]+)\):[^\n]*\n\s+token label\s+:\s+(.*?)\s*$/gm)].find((m) => m[2] === token)?.[1];
  if (!slot) throw new Error(`pkcs11-tool sees no token '${token}'`);
  return slot;
}

function pkcs11ToolObjects(token: string): ToolObject[] {
  const slot = slotOf(token);
  const objects: ToolObject[] = [];
  for (const line of tool(['--slot', slot, '--login', '--pin', hsm.userPin, '--list-objects']).split('\n')) {
    if (/^\S/.test(line)) objects.push({ kind: line.split(';')[0].trim(), usage: [], access: [] });
    const field = /^\s+([A-Za-z_]+):\s+(.*)$/.exec(line);
    if (!field || objects.length === 0) continue;
    const o = objects.at(-1)!;
    const list = (v: string): string[] => v.split(',').map((s) => s.trim()).filter((s) => s && s !== 'none');
    if (field[1] === 'label') o.label = field[2];
    else if (field[1] === 'ID') o.id = field[2];
    else if (field[1] === 'EC_POINT') o.ecPoint = field[2];
    else if (field[1] === 'Usage') o.usage = list(field[2]);
    else if (field[1] === 'Access') o.access = list(field[2]);
  }
  return objects;
}

function outsiderObjects(token: string): TokenObject[] {
  return JSON.parse(execFileSync('python3', [OUTSIDER, hsm.modulePath, token], { input: hsm.userPin, encoding: 'utf8' })) as TokenObject[];
}

const TOOL_KIND: Record<TokenObject['class'], string> = { public: 'Public Key Object', private: 'Private Key Object', secret: 'Secret Key Object', certificate: 'Certificate Object', data: 'Data object', other: '?' };

/** Every object on the token, by both outside readers, which must agree on what is there. */
function census(token: string): { objects: TokenObject[]; listed: ToolObject[] } {
  const objects = outsiderObjects(token);
  const listed = pkcs11ToolObjects(token);
  const key = (kind: string, label?: string | null, id?: string | null): string => `${kind} ${label ?? ''} ${id ?? ''}`;
  expect(listed.map((o) => key(o.kind, o.label, o.id)).sort()).toEqual(objects.map((o) => key(TOOL_KIND[o.class], o.label, o.id)).sort());
  return { objects, listed };
}

const shape = (objects: TokenObject[]): string[] => objects.map((o) => `${o.class} ${o.label}`).sort();

/** Exactly one private and one public object per label: no duplicates, no other classes. */
function expectPairsOnly(objects: TokenObject[], labels: string[]): void {
  expect(shape(objects)).toEqual(labels.flatMap((l) => [`private ${l}`, `public ${l}`]).sort());
  // Nothing but persistent token objects; no session object a crash could have stranded is visible, none was stored.
  expect(objects.every((o) => o.token === true)).toBe(true);
}

const spkiHexOfPem = (pemFile: string): string => execFileSync('openssl', ['pkey', '-pubin', '-in', pemFile, '-outform', 'DER']).toString('hex');

/** The public half: verify only, unchangeable, public, carrying exactly the SPKI given. */
function expectVerifyOnlyPublicKey(o: TokenObject, spkiHex: string, listed: ToolObject[]): void {
  expect(o).toMatchObject({ class: 'public', private: false, verify: true, verifyRecover: false, encrypt: false, wrap: false, derive: false, modifiable: false });
  expect(o.spki).toBe(spkiHex);
  const printed = listed.find((l) => l.kind === 'Public Key Object' && l.label === o.label)!;
  expect(printed.usage).toEqual(['verify']);
  // pkcs11-tool prints CKA_EC_POINT as its DER OCTET STRING: the point itself ends the SPKI's BIT STRING.
  if (o.keyType === 'ec') expect(spkiHex.endsWith(printed.ecPoint!.replace(/^04(81)?[0-9a-f]{2}/, ''))).toBe(true);
}

/** docs/formats.md, "KEK handling and attribute choices": the default root key's private half. */
const ROOT_PRIVATE = {
  class: 'private', private: true, sensitive: true, alwaysSensitive: true, extractable: true, neverExtractable: false, wrapWithTrusted: true, local: true,
  sign: true, signRecover: false, decrypt: false, unwrap: false, derive: false, modifiable: false, copyable: false,
};

/** docs/formats.md, "Transcript key": sensitive, never extractable, sign only. */
const TRANSCRIPT_PRIVATE = { class: 'private', private: true, sensitive: true, alwaysSensitive: true, extractable: false, neverExtractable: true, sign: true, signRecover: false, decrypt: false, unwrap: false, derive: false };

function events(bundle: string): Array<{ type: string; data: Record<string, unknown> }> {
  return readFileSync(path.join(bundle, 'transcript.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { type: string; data: Record<string, unknown> });
}

function rootCeremony(token: string, out: string, extra: string[] = [], env: Record<string, string> = {}): CliResult {
  return keyrite(token, ['ceremony', 'run', 'root-key-generation', '--param', `subject=${ROOT_SUBJECT.subject}`, '--answers', answers, '--out', out, ...extra], env);
}

const ceremonyIdOf = (r: CliResult): string => /Ceremony (\S+):/.exec(r.stdout)![1];

describe('after a sealed root key generation', () => {
  const bundle = path.join(tempDir('audit-root'), 'bundle');
  const sharesFile = path.join(tempDir('audit-shares'), 'shares.txt');
  let keyId: string;
  let backup: { keyId: string; keyLabel: string; ckaId: string; spkiDer: string };
  let token: ReturnType<typeof census>;
  beforeAll(() => {
    const r = rootCeremony('audit-root', bundle, ['--drill-shares', sharesFile]);
    expect(r.status, r.stdout + r.stderr).toBe(0);
    keyId = events(bundle).find((e) => e.type === 'KEY_GENERATED')!.data.keyId as string;
    backup = JSON.parse(readFileSync(path.join(bundle, 'backup', `${keyId}.backup.json`), 'utf8')) as typeof backup;
    token = census('audit-root');
  }, 60_000);

  it('holds exactly the root key pair: no certificate, no transcript key, no KEK, nothing twice', () => {
    expectPairsOnly(token.objects, [keyId]);
    expect(token.objects.some((o) => o.class === 'secret')).toBe(false);
  });

  it('labels both halves with the key id and gives them the CKA_ID the backup records', () => {
    expect(backup.keyId).toBe(keyId);
    expect(backup.keyLabel).toBe(keyId);
    for (const o of token.objects) expect({ label: o.label, id: o.id }).toEqual({ label: keyId, id: backup.ckaId });
  });

  it('keeps the private key sensitive, wrappable only under a trusted KEK, sign only, unchangeable and not copyable', () => {
    expect(token.objects.find((o) => o.class === 'private')).toMatchObject(ROOT_PRIVATE);
    const printed = token.listed.find((l) => l.kind === 'Private Key Object')!;
    expect(printed.usage).toEqual(['sign']);
    expect(printed.access.sort()).toEqual(['always sensitive', 'extractable', 'local', 'sensitive']);
  });

  it('holds the public key of keys/<id>.pub.pem, of the certificate and of the backup, verify only', () => {
    const pem = path.join(bundle, 'keys', `${keyId}.pub.pem`);
    const spki = spkiHexOfPem(pem);
    expectVerifyOnlyPublicKey(token.objects.find((o) => o.class === 'public')!, spki, token.listed);
    const certKey = execFileSync('openssl', ['x509', '-in', path.join(bundle, 'keys', `${keyId}.cert.pem`), '-noout', '-pubkey']);
    expect(execFileSync('openssl', ['pkey', '-pubin', '-outform', 'DER'], { input: certKey }).toString('hex')).toBe(spki);
    expect(Buffer.from(backup.spkiDer, 'base64').toString('hex')).toBe(spki);
  });

  it('destroyed the one-time transcript key it announced', () => {
    const ev = events(bundle);
    const label = ev.find((e) => e.type === 'TRANSCRIPT_KEY_CREATED')!.data.label as string;
    expect(label).toMatch(/^keyrite-transcript-/);
    expect(ev.at(-1)!.data.transcriptKeyAfterSeal).toBe('destroyed');
    expect(token.objects.filter((o) => o.label === label)).toEqual([]);
  });

  describe('a recovery drill into a fresh token, killed (-9) once the key is restored', () => {
    let restored: ReturnType<typeof census>;
    let after: ReturnType<typeof census>;
    let drill: string;
    beforeAll(() => {
      drill = path.join(tempDir('audit-drill'), 'bundle');
      const args = ['ceremony', 'run', 'backup-recovery-drill', '--answers', answers, '--backup', path.join(bundle, 'backup', `${keyId}.backup.json`), '--drill-shares', sharesFile, '--param', 'targetToken=audit-drill', '--out', drill];
      const killed = keyrite('audit-root', args, { KEYRITE_FAULT_KILL_AT: 'restore' });
      expect(killed.signal, killed.stdout + killed.stderr).toBe('SIGKILL');
      restored = census('audit-drill');
      const resumed = keyrite('audit-root', ['ceremony', 'resume', ceremonyIdOf(killed), '--answers', answers, '--drill-shares', sharesFile]);
      expect(resumed.status, resumed.stdout + resumed.stderr).toBe(0);
      after = census('audit-drill');
    }, 60_000);

    it('restored the key sensitive, never extractable, sign only, unchangeable, not copyable, with the original public key', () => {
      const transcriptKey = events(drill).find((e) => e.type === 'TRANSCRIPT_KEY_CREATED')!.data.label as string;
      expectPairsOnly(restored.objects, [keyId, transcriptKey]);
      const priv = restored.objects.find((o) => o.class === 'private' && o.label === keyId)!;
      expect(priv).toMatchObject({ private: true, sensitive: true, extractable: false, sign: true, signRecover: false, decrypt: false, unwrap: false, derive: false, modifiable: false, copyable: false, id: backup.ckaId });
      // Unwrapped, not generated: the token says so (never-extractable and always-sensitive are false by PKCS#11's definition).
      expect(priv.local).toBe(false);
      expect(restored.listed.find((l) => l.kind === 'Private Key Object' && l.label === keyId)!.usage).toEqual(['sign']);
      expectVerifyOnlyPublicKey(restored.objects.find((o) => o.class === 'public' && o.label === keyId)!, spkiHexOfPem(path.join(bundle, 'keys', `${keyId}.pub.pem`)), restored.listed);
      expect(restored.objects.find((o) => o.class === 'public' && o.label === keyId)!.id).toBe(backup.ckaId);
    });

    it('left no KEK behind, even killed mid-ceremony', () => {
      expect(restored.objects.some((o) => o.class === 'secret')).toBe(false);
    });

    it('leaves the drill token empty once resumed and sealed: drill copy, its public key and the transcript key destroyed', () => {
      expect(after.objects).toEqual([]);
      expect(after.listed).toEqual([]);
      // The source token is untouched by the drill.
      expectPairsOnly(census('audit-root').objects, [keyId]);
    });
  });

  // Inside the restore itself: after the unwrap, after the key was locked, after the public key
  // was made. The resumed drill must clear what a cut-short restore left and restore again from
  // the shares, or adopt a finished one, and end with the token empty, the key proven the same.
  describe.each([
    ['restore:unwrapped', 'audit-cut-1', ['private']],
    ['restore:locked', 'audit-cut-2', ['private']],
    ['restore:public-created', 'audit-cut-3', ['private', 'public']],
  ])('a recovery drill killed (-9) inside the restore, at %s', (point, target, left) => {
    it('resumes to the same key and leaves the token empty', () => {
      const drill = path.join(tempDir(target), 'bundle');
      const args = ['ceremony', 'run', 'backup-recovery-drill', '--answers', answers, '--backup', path.join(bundle, 'backup', `${keyId}.backup.json`), '--drill-shares', sharesFile, '--param', `targetToken=${target}`, '--out', drill];
      const killed = keyrite('audit-root', args, { KEYRITE_FAULT_KILL_AT: point });
      expect(killed.signal, killed.stdout + killed.stderr).toBe('SIGKILL');
      const cut = census(target).objects.filter((o) => o.label === keyId);
      expect(cut.map((o) => o.class).sort()).toEqual(left);
      expect(census(target).objects.some((o) => o.class === 'secret')).toBe(false);
      const resumed = keyrite('audit-root', ['ceremony', 'resume', ceremonyIdOf(killed), '--answers', answers, '--drill-shares', sharesFile]);
      expect(resumed.status, resumed.stdout + resumed.stderr).toBe(0);
      const chain = events(drill);
      const restoredEvents = chain.filter((e) => e.type === 'KEY_RESTORED');
      expect(restoredEvents).toHaveLength(1);
      // A finished restore is adopted (no KEK rebuilt); a cut-short one is done again from the shares.
      expect(restoredEvents[0].data.reconciled === true).toBe(point === 'restore:public-created');
      expect(restoredEvents[0].data.spkiSha256).toBe(events(bundle).find((e) => e.type === 'KEY_GENERATED')!.data.spkiSha256);
      expect(chain.some((e) => e.type === 'CEREMONY_SEALED')).toBe(true);
      expect(census(target).objects).toEqual([]);
    }, 60_000);
  });
});

describe('a root key generation killed (-9) and resumed', () => {
  // After the key and the transcript key are made but before either is committed: the resume must adopt, not duplicate.
  it.each(['transcript-key:created', 'generate-key', 'create-backup', 'seal:signed'])('killed at %s: the token ends with exactly the recorded key pair', (point) => {
    const bundle = path.join(tempDir('audit-kill'), 'bundle');
    const killed = rootCeremony('audit-kill', bundle, [], { KEYRITE_FAULT_KILL_AT: point });
    expect(killed.signal, killed.stdout + killed.stderr).toBe('SIGKILL');
    const resumed = keyrite('audit-kill', ['ceremony', 'resume', ceremonyIdOf(killed), '--answers', answers]);
    expect(resumed.status, resumed.stdout + resumed.stderr).toBe(0);
    const keyIds = events(bundle).filter((e) => e.type === 'KEY_GENERATED').map((e) => e.data.keyId as string);
    expect(keyIds).toHaveLength(1);
    const { objects } = census('audit-kill');
    // Earlier rows of this table left their own sealed root keys on the token; this run adds exactly one pair.
    expect(objects.filter((o) => o.label === keyIds[0])).toHaveLength(2);
    expect(objects.some((o) => o.class === 'secret' || o.label?.startsWith('keyrite-transcript-'))).toBe(false);
    expectPairsOnly(objects, [...new Set(objects.map((o) => o.label!))]);
    expect(objects.find((o) => o.class === 'private' && o.label === keyIds[0])).toMatchObject(ROOT_PRIVATE);
  });
});

describe('an aborted root key generation', () => {
  it('leaves what docs/hsm-notes.md says: its key pair and its unused transcript key pair, no KEK', () => {
    const bundle = path.join(tempDir('audit-abort'), 'bundle');
    const killed = rootCeremony('audit-abort', bundle, [], { KEYRITE_FAULT_KILL_AT: 'create-backup' });
    expect(killed.signal, killed.stdout + killed.stderr).toBe('SIGKILL');
    const id = ceremonyIdOf(killed);
    const aborted = keyrite('audit-abort', ['ceremony', 'abort', id, '--reason', 'audit: stopped after the backup', '--by', 'ada']);
    expect(aborted.status, aborted.stdout + aborted.stderr).toBe(0);
    const { objects, listed } = census('audit-abort');
    const transcriptKey = `keyrite-transcript-${id}`;
    const keyLabel = objects.find((o) => o.label !== transcriptKey)?.label;
    expect(keyLabel).toMatch(/^ecp384-\d{4}-\d{2}$/);
    expectPairsOnly(objects, [keyLabel!, transcriptKey]);
    expect(objects.find((o) => o.class === 'private' && o.label === keyLabel)).toMatchObject(ROOT_PRIVATE);
    expect(objects.find((o) => o.class === 'private' && o.label === transcriptKey)).toMatchObject(TRANSCRIPT_PRIVATE);
    const transcriptPublic = objects.find((o) => o.class === 'public' && o.label === transcriptKey)!;
    expect(transcriptPublic).toMatchObject({ private: false, verify: true, encrypt: false, wrap: false, derive: false });
    expect(listed.find((l) => l.kind === 'Private Key Object' && l.label === transcriptKey)!.access).toContain('never extractable');
    // The generated key is in the inventory; the unused transcript key is reported, since it could
    // sign a made-up sealed transcript of the ceremony that never finished.
    const check = keyrite('audit-abort', ['inventory', 'check']);
    expect(check.status, check.stdout + check.stderr).toBe(1);
    expect(check.stdout).toMatch(new RegExp(`TRANSCRIPT-KEY-KEPT .*'${transcriptKey}' of aborted ceremony ${id} is still on token 'audit-abort'`));
    expect(check.stdout).not.toContain(keyLabel!);

    // The way out docs/hsm-notes.md gives works, and then the token and the inventory agree again.
    for (const type of ['privkey', 'pubkey']) tool(['--slot', slotOf('audit-abort'), '--login', '--pin', hsm.userPin, '--delete-object', '--type', type, '--label', transcriptKey]);
    const after = keyrite('audit-abort', ['inventory', 'check']);
    expect(after.status, after.stdout + after.stderr).toBe(0);
    expect(after.stdout).not.toContain('TRANSCRIPT-KEY-KEPT');
  });
});
