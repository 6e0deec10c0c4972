import { spawnSync } from 'node:child_process';
import { createHash, createPublicKey } from 'node:crypto';
import { appendFileSync, cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { tempDir } from '../helpers/ceremony';
import { runKeyrite } from '../helpers/cli';
import { TestGpg } from '../helpers/gpg';

/**
 * The clean-room outsider (test/outsider/*.py, Python 3 + `cryptography` only, written from
 * docs/formats.md alone) against real bundles and shares: it must recover the key and verify the
 * bundle without Keyrite, and agree with `keyrite verify` on every tampered copy.
 */
const OUTSIDER = path.resolve(__dirname, '../outsider');
/** The interpreter's real path, when it can import `cryptography`. */
function pythonWithCryptography(python: string): string | null {
  const r = spawnSync(python, ['-c', 'import os, sys, cryptography; print(os.path.realpath(sys.executable))'], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : null;
}
// The python3 on PATH, and Debian's /usr/bin/python3 (build/test.mjs installs python3-cryptography
// for it) when that is another interpreter with `cryptography` (a developer's pyenv, say).
const onPath = pythonWithCryptography('python3');
const debian = existsSync('/usr/bin/python3') ? pythonWithCryptography('/usr/bin/python3') : null;
const PYTHONS = ['python3', ...(debian && debian !== onPath ? ['/usr/bin/python3'] : [])];

function outsider(script: string, args: string[], input = '', python = 'python3') {
  const r = spawnSync(python, [path.join(OUTSIDER, script), ...args], { input, encoding: 'utf8', timeout: 60_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr, code: /^FAIL ([A-Z0-9_]+):/.exec(r.stderr)?.[1] };
}

/** A demo root ceremony on a fresh KEYRITE_HOME, i.e. on a freshly made SoftHSM demo token. */
function demoCeremony(name: string) {
  const env = { KEYRITE_HOME: tempDir(`outsider-${name}-home`), KEYRITE_PKCS11_MODULE: '', KEYRITE_TOKEN_LABEL: '', KEYRITE_PIN: '' };
  const bundle = path.join(tempDir(`outsider-${name}`), 'bundle');
  const sharesFile = path.join(tempDir(`outsider-${name}-shares`), 'shares.txt');
  const r = runKeyrite(['ceremony', 'run', 'root-key-generation', '--demo', '--out', bundle, '--drill-shares', sharesFile], { env });
  expect(r.status, r.stderr).toBe(0);
  // The drill shares file: `# <header> · <custodian>` then the words line (docs/formats.md).
  const lines = readFileSync(sharesFile, 'utf8').split('\n').slice(1).filter(Boolean);
  const shares = [];
  for (let i = 0; i < lines.length; i += 2) {
    const header = lines[i].replace(/^# /, '').split(' · ').slice(0, 3).join(' · ');
    shares.push({ header, words: lines[i + 1] });
  }
  const backup = path.join(bundle, 'backup', readdirSync(path.join(bundle, 'backup'))[0]);
  const pubPem = readdirSync(path.join(bundle, 'keys')).find((f) => f.endsWith('.pub.pem'))!;
  const spkiSha256 = createHash('sha256').update(createPublicKey(readFileSync(path.join(bundle, 'keys', pubPem))).export({ type: 'spki', format: 'der' })).digest('hex');
  return { env, bundle, shares, backup, spkiSha256 };
}

type Ceremony = ReturnType<typeof demoCeremony>;
/** A share as its sealed file (and the screen) hands it out: the header line, then the 33 words. */
const handedOut = (s: { header: string; words: string }) => `${s.header}\n${s.words}\n`;
/** The same share as a custodian might type it from the printed card: numbered, several per line. */
const typed = (s: { words: string }) => s.words.split(' ').map((w, i) => `${i + 1}. ${w.toUpperCase()}`).join('   ') + '\n';

describe('the clean-room outsider (docs/formats.md alone)', () => {
  let a: Ceremony;
  let other: Ceremony;
  beforeAll(() => {
    a = demoCeremony('a');
    other = demoCeremony('other');
  });

  it.each(PYTHONS)('checks every test vector printed in docs/formats.md (%s)', (python) => {
    const r = outsider('check_vectors.py', [], '', python);
    expect(r.status, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toContain('all vectors ok');
    expect(r.stdout).not.toContain('FAIL');
  });

  it.each(PYTHONS)('verifies the sealed bundle with the final hash and words keyrite verify reports (%s)', (python) => {
    const k = runKeyrite(['verify', '--json', a.bundle], { env: a.env });
    expect(k.status, k.stderr).toBe(0);
    const report = JSON.parse(k.stdout) as { finalHash: string; finalHashWords: string[]; transcriptKeySpkiSha256: string };
    const r = outsider('verify_bundle.py', [a.bundle], '', python);
    expect(r.status, r.stderr).toBe(0);
    const out = r.stdout.split('\n');
    expect(out[0]).toBe(`OK ${report.finalHash}`);
    expect(r.stdout).toContain(report.finalHashWords.join(' '));
    expect(r.stdout).toContain(report.transcriptKeySpkiSha256.replace(/(.{4})(?!$)/g, '$1 '));
  });

  it.each([
    ['shares 1, 2, 3 as handed out', [0, 1, 2], handedOut],
    ['shares 2, 4, 5 typed from the card (numbered, upper case)', [1, 3, 4], typed],
    ['shares 5, 3, 1 (any order)', [4, 2, 0], handedOut],
    ['all five shares', [0, 1, 2, 3, 4], handedOut],
  ] as const)('recovers the key from %s: its SPKI is the bundle\'s public key', (_name, picks, form) => {
    const input = picks.map((i) => form(a.shares[i])).join('\n');
    const r = outsider('recover_key.py', [a.backup], input);
    expect(r.status, r.stderr).toBe(0);
    // Only the public key's digest comes out: no KEK, no key material.
    expect(r.stdout).toBe(`${a.spkiSha256}\n`);
  });

  it('recovers from the drill shares file exactly as Keyrite wrote it', () => {
    const drill = ['# keyrite drill shares · ceremony x · drill only: destroy after the drill', ...a.shares.map((s, i) => `# ${s.header} · Custodian ${i + 1}\n${s.words}`)].join('\n');
    expect(outsider('recover_key.py', [a.backup], `${drill}\n`).stdout).toBe(`${a.spkiSha256}\n`);
  });

  it('recovers from three shares sealed to custodians\' OpenPGP keys, decrypted with plain gpg', () => {
    const env = { KEYRITE_HOME: tempDir('outsider-pgp-home'), KEYRITE_PKCS11_MODULE: '', KEYRITE_TOKEN_LABEL: '', KEYRITE_PIN: '' };
    const bundle = path.join(tempDir('outsider-pgp'), 'bundle');
    const r = runKeyrite(['ceremony', 'run', 'root-key-generation', '--demo', '--demo-openpgp', '3', '--out', bundle], { env });
    expect(r.status, r.stderr).toBe(0);
    const keysDir = /Demo OpenPGP keys \(throw-away, rehearsal only\): (\S+)/.exec(r.stdout)![1];
    const gpg = new TestGpg();
    try {
      for (const f of readdirSync(keysDir).filter((n) => n.endsWith('.demo-secret.asc'))) gpg.run(['--import', path.join(keysDir, f)]);
      const sealedDir = `${bundle}-sealed-shares`;
      const texts = readdirSync(sealedDir).map((f) => gpg.decrypt(path.join(sealedDir, f)));
      expect(texts).toHaveLength(3);
      // docs/formats.md, "Sealed share file": the header line, then the 33 words on one line.
      for (const t of texts) expect(t).toMatch(/^share [1-5] of 5 · needs 3 · split [0-9A-F]{4}-[0-9A-F]{4}\n[a-z]+( [a-z]+){32}\n$/);
      const backup = path.join(bundle, 'backup', readdirSync(path.join(bundle, 'backup'))[0]);
      const pub = readdirSync(path.join(bundle, 'keys')).find((f) => f.endsWith('.pub.pem'))!;
      const spki = createHash('sha256').update(createPublicKey(readFileSync(path.join(bundle, 'keys', pub))).export({ type: 'spki', format: 'der' })).digest('hex');
      expect(outsider('recover_key.py', [backup], texts.join('')).stdout).toBe(`${spki}\n`);
      expect(outsider('verify_bundle.py', [bundle]).status).toBe(0);
    } finally {
      gpg.close();
      rmSync(keysDir, { recursive: true, force: true });
    }
  });

  it('after a share rotation: verifies its bundle, recovers from the new shares, refuses the old ones', () => {
    const dir = tempDir('outsider-rotation');
    const oldShares = path.join(dir, 'old.txt');
    const newShares = path.join(dir, 'new.txt');
    writeFileSync(oldShares, a.shares.map((s) => `${s.words}\n`).join(''), { mode: 0o600 });
    const out = path.join(dir, 'bundle');
    const r = runKeyrite(['ceremony', 'run', 'share-rotation', '--demo', '--backup', a.backup, '--drill-shares', oldShares, '--drill-shares-out', newShares, '--out', out], { env: a.env });
    expect(r.status, r.stderr).toBe(0);
    expect(outsider('verify_bundle.py', [out]).stdout).toMatch(/^OK [0-9a-f]{64}\n/);
    const backup = path.join(out, 'backup', path.basename(a.backup));
    expect(outsider('recover_key.py', [backup], readFileSync(newShares, 'utf8')).stdout).toBe(`${a.spkiSha256}\n`);
    const old = outsider('recover_key.py', [backup], a.shares.map(handedOut).join('\n'));
    expect(old.code).toBe('SHARE_FOREIGN_SPLIT');
  });

  it('refuses too few shares, a share with one wrong word, and a share of another ceremony, saying why', () => {
    const tooFew = outsider('recover_key.py', [a.backup], [0, 1].map((i) => handedOut(a.shares[i])).join('\n'));
    expect(tooFew.status).toBe(1);
    expect(tooFew.code).toBe('SHARE_TOO_FEW');
    expect(tooFew.stderr).toContain('2 shares given, 3 needed');

    // Word 10 replaced by another list word: the checksum finds it (and Keyrite agrees).
    const words = a.shares[1].words.split(' ');
    words[9] = words[9] === 'zoo' ? 'abandon' : 'zoo';
    const wrong = { header: a.shares[1].header, words: words.join(' ') };
    const r = outsider('recover_key.py', [a.backup], [a.shares[0], wrong, a.shares[2]].map(handedOut).join('\n'));
    expect(r.status).toBe(1);
    expect(r.code).toBe('SHARE_CHECKSUM');
    expect(r.stderr).toContain('share #2 given: the checksum fails (substitution at word 10)');
    const keyrite = runKeyrite(['share', 'check'], { env: a.env, input: handedOut(wrong) });
    expect(keyrite.errorCode).toBe('SHARE_CHECKSUM');
    expect(keyrite.stderr).toContain('Word 10 is most likely wrong');

    const foreign = outsider('recover_key.py', [a.backup], [other.shares[0], a.shares[1], a.shares[2]].map(handedOut).join('\n'));
    expect(foreign.status).toBe(1);
    expect(foreign.code).toBe('SHARE_FOREIGN_SPLIT');
    expect(foreign.stderr).toContain(`belongs to split ${other.shares[0].header.split('split ')[1]}`);
  });

  it('decodes each share as keyrite share check does, also when two words are swapped or several are wrong', () => {
    const w = a.shares[2].words.split(' ');
    const swapped = [...w];
    [swapped[11], swapped[12]] = [swapped[12], swapped[11]];
    const several = w.map((x, i) => (i === 7 || i === 20 ? (x === 'zoo' ? 'abandon' : 'zoo') : x));
    for (const text of [handedOut(a.shares[2]), `${swapped.join(' ')}\n`, `${several.join(' ')}\n`, `${w.slice(1).join(' ')}\n`, `${w.join(' ')} zzzz\n`]) {
      const k = runKeyrite(['share', 'check'], { env: a.env, input: text });
      const p = outsider('share.py', [], text);
      expect(p.code ?? 'OK', text).toBe(k.errorCode ?? (k.status === 0 ? 'OK' : 'NO CODE'));
      if (k.status === 0) expect(p.stdout.trim()).toBe(a.shares[2].header);
    }
  });

  type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any -- edits of a parsed backup file
  const asJson = (edit: (b: Json) => void) => (text: string) => {
    const b = JSON.parse(text) as Json;
    edit(b);
    return JSON.stringify(b, null, 2);
  };
  it.each([
    ['a byte-order mark', (t: string) => `\ufeff${t}`],
    ['a field named twice', (t: string) => t.replace('{', '{\n  "keyId": "x",')],
    ['a truncated file', (t: string) => t.slice(0, 100)],
    ['a password file', () => 'hunter2\n'],
    ['format version 3', asJson((b) => { b.formatVersion = 3; })],
    ['format version "2"', asJson((b) => { b.formatVersion = '2'; })],
    ['an unknown field', asJson((b) => { b.note = 'added'; })],
    ['a field missing', asJson((b) => { delete b.keyLabel; })],
    ['an unknown field in kek', asJson((b) => { b.kek.extra = 1; })],
    ['a pkcs8Length the blob cannot carry', asJson((b) => { b.pkcs8Length = (b.pkcs8Length as number) + 1; })],
    ['shares out of order', asJson((b) => { (b.split.shares as unknown[]).reverse(); })],
    ['another spkiSha256', asJson((b) => { b.spkiSha256 = '0'.repeat(64); })],
    ['another threshold', asJson((b) => { b.split.threshold = 2; })],
    ['another split id', asJson((b) => { b.split.id = '0000-0000'; })],
    ['another digest for share 1', asJson((b) => { b.split.shares[0].digest = '0'.repeat(64); })],
  ])('reads a backup file with %s as keyrite share check --backup does', (_name, edit) => {
    const file = path.join(tempDir('outsider-backup'), 'edited.backup.json');
    writeFileSync(file, edit(readFileSync(a.backup, 'utf8')));
    const k = runKeyrite(['share', 'check', '--backup', file], { env: a.env, input: handedOut(a.shares[0]) });
    const p = outsider('recover_key.py', [file], [0, 1, 2].map((i) => handedOut(a.shares[i])).join('\n'));
    expect(k.errorCode, k.stderr).toBeDefined();
    expect(p.code, p.stderr).toBe(k.errorCode);
  });

  /** Tampering: single-byte edits, deleted/duplicated/swapped lines, edited files, added files. */
  type Tamper =
    | { kind: 'byte'; file: string; pos: number; xor: number }
    | { kind: 'line'; file: string; op: 'delete' | 'duplicate' | 'swap'; i: number; j: number }
    | { kind: 'edit'; file: string; op: 'append' | 'truncate' | 'empty' }
    | { kind: 'add'; file: string };

  function apply(dir: string, t: Tamper): void {
    const f = path.join(dir, t.file);
    if (t.kind === 'add') {
      mkdirSync(path.dirname(f), { recursive: true });
      writeFileSync(f, 'a file added after the seal\n');
    } else if (t.kind === 'byte') {
      const b = readFileSync(f);
      b[t.pos % b.length] ^= t.xor;
      writeFileSync(f, b);
    } else if (t.kind === 'edit') {
      const b = readFileSync(f);
      if (t.op === 'append') appendFileSync(f, '\n');
      else writeFileSync(f, t.op === 'truncate' ? b.subarray(0, b.length - 1) : Buffer.alloc(0));
    } else {
      const lines = readFileSync(f, 'utf8').split('\n').slice(0, -1);
      const i = t.i % lines.length;
      const j = i === t.j % lines.length ? (i + 1) % lines.length : t.j % lines.length;
      if (t.op === 'delete') lines.splice(i, 1);
      else if (t.op === 'duplicate') lines.splice(i, 0, lines[i]);
      else [lines[i], lines[j]] = [lines[j], lines[i]];
      writeFileSync(f, lines.map((l) => `${l}\n`).join(''));
    }
  }

  it('agrees with keyrite verify on every tampered copy (seeded, accept/reject and error code)', () => {
    const files = readFileSync(path.join(a.bundle, 'SHA256SUMS'), 'utf8').trim().split('\n').map((l) => l.slice(66));
    const anyFile = fc.constantFrom(...files, 'SHA256SUMS');
    const tamper: fc.Arbitrary<Tamper> = fc.oneof(
      { weight: 3, arbitrary: fc.record({ kind: fc.constant('byte' as const), file: fc.oneof(fc.constant('transcript.jsonl'), anyFile), pos: fc.nat(), xor: fc.integer({ min: 1, max: 255 }) }) },
      { weight: 2, arbitrary: fc.record({ kind: fc.constant('line' as const), file: fc.constantFrom('transcript.jsonl', 'SHA256SUMS'), op: fc.constantFrom('delete' as const, 'duplicate' as const, 'swap' as const), i: fc.nat(), j: fc.nat() }) },
      { weight: 1, arbitrary: fc.record({ kind: fc.constant('edit' as const), file: anyFile, op: fc.constantFrom('append' as const, 'truncate' as const, 'empty' as const) }) },
      { weight: 1, arbitrary: fc.record({ kind: fc.constant('add' as const), file: fc.constantFrom('extra.txt', 'keys/extra.pub.pem', 'backup/old.backup.json', '.hidden', 'new/folder/notes.txt') }) },
    );
    const disagreements: string[] = [];
    fc.assert(
      fc.property(tamper, (t) => {
        const dir = path.join(tempDir('outsider-tamper'), 'bundle');
        cpSync(a.bundle, dir, { recursive: true });
        apply(dir, t);
        const k = runKeyrite(['verify', dir], { env: a.env });
        const p = outsider('verify_bundle.py', [dir]);
        const keyrite = k.status === 0 ? 'OK' : (k.errorCode ?? `no code: ${k.stderr.trim()}`);
        const python = p.status === 0 ? 'OK' : (p.code ?? `no code: ${p.stderr.trim()}`);
        if (keyrite !== python) disagreements.push(`${JSON.stringify(t)}: keyrite ${keyrite}, outsider ${python}`);
        rmSync(path.dirname(dir), { recursive: true, force: true });
      }),
      { seed: 20261203, numRuns: 30 },
    );
    expect(disagreements).toEqual([]);
  });

  it('the one documented difference: only Keyrite re-renders transcript.html, so an edit with SHA256SUMS recomputed passes standard tools', () => {
    const dir = path.join(tempDir('outsider-html'), 'bundle');
    cpSync(a.bundle, dir, { recursive: true });
    const html = path.join(dir, 'transcript.html');
    writeFileSync(html, readFileSync(html, 'utf8').replace('Cora Custodian', 'Cora Kustodian'));
    const sums = readFileSync(path.join(dir, 'SHA256SUMS'), 'utf8').replace(/^[0-9a-f]{64}(?= {2}transcript\.html$)/m, createHash('sha256').update(readFileSync(html)).digest('hex'));
    writeFileSync(path.join(dir, 'SHA256SUMS'), sums);
    expect(runKeyrite(['verify', dir], { env: a.env }).errorCode).toBe('TRANSCRIPT_HTML_MISMATCH');
    expect(outsider('verify_bundle.py', [dir]).status).toBe(0);
  });
});
