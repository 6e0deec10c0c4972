import { spawnSync } from 'node:child_process';
import { execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, unlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { parseBackup, readBackupFile } from '../../src/core/backup/backup-file';
import { decodeShare } from '../../src/core/backup/share-codec';
import { loadAnswers } from '../../src/core/ceremony/answers';
import { KeyriteError } from '../../src/core/errors';
import { verifyBundle } from '../../src/core/transcript/verify';
import { tempDir } from '../helpers/ceremony';

/**
 * Seeded fuzzing of what people and media hand Keyrite: share words, backup files, answers files
 * and whole bundles, mutated at random. Whatever the input, the answer is a result or a
 * KeyriteError with a stable DOMAIN_REASON code — never another exception, never a hang. The
 * seed is fixed so a failure is reproducible; fast-check prints the shrunk counterexample.
 */
const SEED = 21;
const CODE = /^[A-Z][A-Z0-9]*(_[A-Z0-9]+)+$/;
const home = tempDir('fuzz-home');
const work = tempDir('fuzz-work');
const bundle = path.join(work, 'bundle');
const sharesFile = path.join(work, 'shares.txt');
const env = { ...process.env, KEYRITE_HOME: home, KEYRITE_PKCS11_MODULE: '', KEYRITE_TOKEN_LABEL: '', KEYRITE_PIN: '' };
delete (env as NodeJS.ProcessEnv).SOFTHSM2_CONF;
let shares: string[] = [];
let backupFile = '';
let backupText = '';

beforeAll(() => {
  const r = spawnSync(process.execPath, ['bin/keyrite.mjs', 'ceremony', 'run', 'root-key-generation', '--demo', '--out', bundle, '--drill-shares', sharesFile], { env, encoding: 'utf8', timeout: 150_000 });
  expect(r.status, r.stderr).toBe(0);
  shares = readFileSync(sharesFile, 'utf8').split('\n').filter((l) => l && !l.startsWith('#'));
  backupFile = path.join(bundle, readFileSync(path.join(bundle, 'SHA256SUMS'), 'utf8').match(/backup\/\S+\.backup\.json/)![0]);
  backupText = readFileSync(backupFile, 'utf8');
}, 180_000);

/** Run `fn`; it may return, or throw a KeyriteError with a stable code — anything else fails. */
async function coded(fn: () => unknown, boundMs = 5_000): Promise<'ok' | string> {
  let timer: NodeJS.Timeout | undefined;
  const bound = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`no answer within ${boundMs} ms`)), boundMs)));
  try {
    await Promise.race([Promise.resolve().then(fn), bound]);
    return 'ok';
  } catch (e) {
    if (!(e instanceof KeyriteError)) throw new Error(`uncoded error: ${e instanceof Error ? `${e.name}: ${e.message}` : String(e)}`);
    expect(e.code).toMatch(CODE);
    expect(e.message.length).toBeGreaterThan(10);
    return e.code;
  } finally {
    clearTimeout(timer);
  }
}

/** A mutation of a string: flip, delete, insert, duplicate or truncate somewhere. */
const mutation = fc.oneof(
  fc.record({ kind: fc.constant('flip' as const), at: fc.nat(), bit: fc.integer({ min: 0, max: 7 }) }),
  fc.record({ kind: fc.constant('delete' as const), at: fc.nat(), len: fc.integer({ min: 1, max: 40 }) }),
  fc.record({ kind: fc.constant('insert' as const), at: fc.nat(), text: fc.string({ unit: 'binary', maxLength: 20 }) }),
  fc.record({ kind: fc.constant('duplicate' as const), at: fc.nat(), len: fc.integer({ min: 1, max: 80 }) }),
  fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }),
);
type Mutation = typeof mutation extends fc.Arbitrary<infer T> ? T : never;

function mutate(text: string, m: Mutation): string {
  const at = text.length === 0 ? 0 : m.at % text.length;
  switch (m.kind) {
    case 'flip':
      return text.slice(0, at) + String.fromCharCode(text.charCodeAt(at) ^ (1 << m.bit)) + text.slice(at + 1);
    case 'delete':
      return text.slice(0, at) + text.slice(at + m.len);
    case 'insert':
      return text.slice(0, at) + m.text + text.slice(at);
    case 'duplicate':
      return text.slice(0, at + m.len) + text.slice(at, at + m.len) + text.slice(at + m.len);
    case 'truncate':
      return text.slice(0, at);
  }
}

describe('seeded fuzzing (fixed seed): a result or a coded error, within a time bound', () => {
  it('the share decoder, on mutated shares and on arbitrary text', async () => {
    const words = fc.constantFrom(...shares[0].split(' '), 'abandon', 'zoo', 'xyzzy', '1.', 'share', '·', '\u0000', '\uFEFF');
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          fc.tuple(fc.constantFrom(...shares), fc.array(mutation, { minLength: 1, maxLength: 4 })).map(([s, ms]) => ms.reduce(mutate, s)),
          fc.array(words, { maxLength: 40 }).map((w) => w.join(' ')),
          fc.string({ unit: 'grapheme', maxLength: 400 }),
        ),
        async (text) => {
          await coded(() => decodeShare(text));
        },
      ),
      { seed: SEED, numRuns: 400 },
    );
    // The unmutated shares still decode.
    for (const s of shares) expect(decodeShare(s).splitId).toBeTruthy();
  });

  it('the backup-file parser, on mutated backups, as text and as files', async () => {
    const file = path.join(work, 'mutated.backup.json');
    await fc.assert(
      fc.asyncProperty(fc.array(mutation, { minLength: 1, maxLength: 3 }), fc.boolean(), async (ms, asFile) => {
        const text = ms.reduce(mutate, backupText);
        if (asFile) {
          writeFileSync(file, text);
          await coded(() => readBackupFile(file));
        } else await coded(() => parseBackup(text, 'fuzz.backup.json'));
      }),
      { seed: SEED, numRuns: 400 },
    );
    expect(parseBackup(backupText, backupFile).keyId).toBeTruthy();
  });

  it('the answers parser, on mutated answers files', async () => {
    const base = readFileSync('resources/ceremonies/demo-participants.yaml', 'utf8');
    const file = path.join(work, 'answers.yaml');
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          fc.array(mutation, { minLength: 1, maxLength: 4 }).map((ms) => ms.reduce(mutate, base)),
          fc.string({ unit: 'binary', maxLength: 300 }),
          fc.constantFrom('a: &a [1]\nb: *a\n', '&x [*x]', '{', '- - - -', 'participants: 7', `${'- '.repeat(500)}x`, `${'['.repeat(2000)}`),
        ),
        async (text) => {
          writeFileSync(file, text);
          await coded(() => loadAnswers(file));
        },
      ),
      { seed: SEED, numRuns: 300 },
    );
  });

  it('verify, on bundles with one file mutated, removed, replaced or added', async () => {
    const files: string[] = [];
    const walk = (rel: string): void => {
      for (const n of readdirSync(path.join(bundle, rel))) {
        const r = rel ? `${rel}/${n}` : n;
        if (statSync(path.join(bundle, r)).isDirectory()) walk(r);
        else files.push(r);
      }
    };
    walk('');
    const copy = path.join(work, 'mutated-bundle');
    const change = fc.oneof(
      fc.record({ kind: fc.constant('edit' as const), file: fc.constantFrom(...files), ms: fc.array(mutation, { minLength: 1, maxLength: 3 }) }),
      fc.record({ kind: fc.constantFrom('remove' as const, 'fifo' as const, 'folder' as const, 'symlink' as const, 'empty' as const), file: fc.constantFrom(...files) }),
      fc.record({ kind: fc.constant('add' as const), file: fc.constantFrom('extra.txt', 'keys/extra.pem', 'backup/x.backup.json', '.hidden'), ms: fc.constant([]) }),
    );
    let refused = 0;
    await fc.assert(
      fc.asyncProperty(change, async (c) => {
        rmSync(copy, { recursive: true, force: true });
        cpSync(bundle, copy, { recursive: true });
        const target = path.join(copy, c.file);
        const before = c.kind === 'add' ? '' : readFileSync(target, 'latin1');
        if (c.kind === 'edit') writeFileSync(target, c.ms.reduce(mutate, before), 'latin1');
        if (c.kind === 'remove') unlinkSync(target);
        if (c.kind === 'empty') writeFileSync(target, '');
        if (c.kind === 'fifo' || c.kind === 'folder' || c.kind === 'symlink') {
          unlinkSync(target);
          if (c.kind === 'fifo') execFileSync('mkfifo', [target]);
          if (c.kind === 'folder') mkdirSync(target);
          if (c.kind === 'symlink') symlinkSync('/etc/hostname', target);
        }
        if (c.kind === 'add') {
          mkdirSync(path.dirname(target), { recursive: true });
          writeFileSync(target, 'added after sealing\n');
        }
        const unchanged = c.kind === 'edit' && readFileSync(target, 'latin1') === before;
        const result = await coded(() => verifyBundle(copy), 10_000);
        // Any real change to a sealed bundle is refused; only a mutation that changed nothing passes.
        if (!unchanged) expect(result).not.toBe('ok');
        if (result !== 'ok') refused++;
      }),
      { seed: SEED, numRuns: 120 },
    );
    expect(refused).toBeGreaterThan(100);
  });

  it('keyrite verify (the real command) on a few mutated bundles: exit 1, one coded line', () => {
    const copy = path.join(work, 'cli-mutated');
    const cases: Array<(dir: string) => void> = [
      (d) => writeFileSync(path.join(d, 'transcript.jsonl'), readFileSync(path.join(d, 'transcript.jsonl'), 'utf8').replace('"seq":3', '"seq":4')),
      (d) => writeFileSync(path.join(d, 'transcript.sig'), Buffer.alloc(8)),
      (d) => writeFileSync(path.join(d, 'SHA256SUMS'), '\uFEFF' + readFileSync(path.join(d, 'SHA256SUMS'), 'utf8')),
      (d) => writeFileSync(path.join(d, 'transcript.jsonl'), readFileSync(path.join(d, 'transcript.jsonl')).subarray(0, 100)),
      (d) => {
        unlinkSync(path.join(d, 'transcript-key.pem'));
        execFileSync('mkfifo', [path.join(d, 'transcript-key.pem')]);
      },
    ];
    for (const apply of cases) {
      rmSync(copy, { recursive: true, force: true });
      cpSync(bundle, copy, { recursive: true });
      apply(copy);
      const r = spawnSync(process.execPath, ['bin/keyrite.mjs', 'verify', copy], { env, encoding: 'utf8', timeout: 20_000, killSignal: 'SIGKILL' });
      expect(r.signal).toBeNull();
      expect(r.status, r.stderr).toBe(1);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.stderr).toMatch(/^keyrite: .+ \[[A-Z][A-Z0-9]*(_[A-Z0-9]+)+\]\n$/);
    }
  });
});
