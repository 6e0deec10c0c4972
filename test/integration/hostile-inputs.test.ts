import { execFileSync, spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { closeSync, cpSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { AnswersDriver } from '../../src/core/ceremony/answers';
import { answersFor, openService, tempDir, ROOT_SUBJECT } from '../helpers/ceremony';
import { createTestHsm } from '../helpers/softhsm';

/**
 * Hostile and mistaken inputs against the real `keyrite`, as an attacker or a tired operator
 * would type them (issue 21). Every case must end within its time bound with the expected exit
 * code and one coded line on stderr (no stack trace, no raw errno text), and lose nothing: the
 * store's ceremonies, the bundle, the backup and the shares file are as they were.
 */
const home = tempDir('hostile-home');
const work = tempDir('hostile-work');
const baseEnv: NodeJS.ProcessEnv = { ...process.env, KEYRITE_HOME: home, KEYRITE_PKCS11_MODULE: '', KEYRITE_TOKEN_LABEL: '', KEYRITE_PIN: '', KEYRITE_DEBUG: '' };
delete baseEnv.SOFTHSM2_CONF;
const bundle = path.join(work, 'bundle');
const shares = path.join(work, 'shares.txt');
let backup = '';

interface Run {
  status: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  ms: number;
}

function keyrite(args: string[], opts: { env?: NodeJS.ProcessEnv; stdoutFile?: string; timeoutMs?: number } = {}): Run {
  const t0 = Date.now();
  const fd = opts.stdoutFile ? openSync(opts.stdoutFile, 'w') : undefined;
  try {
    const r = spawnSync(process.execPath, ['bin/keyrite.mjs', ...args], {
      env: { ...baseEnv, ...opts.env },
      encoding: 'utf8',
      input: '',
      stdio: ['pipe', fd ?? 'pipe', 'pipe'],
      // A hang never ends; a refusal on an idle machine takes about a second. The bound is wide
      // because a loaded CI box (2 cores, many suites) can take 20 s just to start node.
      timeout: opts.timeoutMs ?? 60_000,
      killSignal: 'SIGKILL',
    });
    return { status: r.status, signal: r.signal, stdout: r.stdout ?? '', stderr: r.stderr ?? '', ms: Date.now() - t0 };
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/** Everything that must survive a refused command, as one comparable string. */
function snapshot(): string {
  const h = createHash('sha256');
  const walk = (p: string): void => {
    const st = statSync(p);
    if (st.isDirectory()) for (const n of readdirSync(p).sort()) walk(path.join(p, n));
    else if (st.isFile()) h.update(p).update(readFileSync(p));
  };
  walk(bundle);
  walk(shares);
  // The store read directly (read-only), not through keyrite: quicker, and it cannot change it.
  const list = execFileSync('python3', ['-c', `import sqlite3; c = sqlite3.connect('file:${path.join(home, 'keyrite.sqlite')}?mode=ro', uri=True); print(','.join(f'{i}:{s}:{n}' for i, s, n in c.execute('select id, status, current_step from ceremonies order by id')))`], { encoding: 'utf8' }).trim();
  return `${h.digest('hex')} ${list}`;
}

const f = (name: string): string => path.join(work, name);
const fifo = (name: string): string => {
  const p = f(name);
  if (!existsSync(p)) execFileSync('mkfifo', [p]);
  return p;
};
const write = (name: string, content: string | Buffer): string => {
  writeFileSync(f(name), content);
  return f(name);
};
const backupText = (): string => readFileSync(backup, 'utf8');
const aliasBomb = (): string => {
  const lines = ['a: &a ["x","x","x","x","x","x","x","x","x"]'];
  let prev = 'a';
  for (let i = 1; i <= 9; i++) {
    lines.push(`b${i}: &b${i} [${Array(9).fill(`*${prev}`).join(',')}]`);
    prev = `b${i}`;
  }
  return lines.join('\n') + '\n';
};
const manyStepsScript = (n: number): string => {
  const steps = Array.from({ length: n }, (_, i) => `  - {id: s${i}, title: S, say: x, action: preflight}`);
  return `id: many\ntitle: Many\nversion: 1\ndescription: x\nroles:\n  - {id: admin, title: A, min: 1, max: 1}\nsteps:\n${steps.join('\n')}\n  - {id: seal, title: Seal, say: x, action: seal}\n`;
};

beforeAll(() => {
  const r = keyrite(['ceremony', 'run', 'root-key-generation', '--demo', '--out', bundle, '--drill-shares', shares], { timeoutMs: 120_000 });
  expect(r.status, r.stderr).toBe(0);
  backup = path.join(bundle, readFileSync(path.join(bundle, 'SHA256SUMS'), 'utf8').match(/backup\/\S+\.backup\.json/)![0]);
}, 180_000);

/** `keeps`: the case starts a ceremony on purpose and stops it at a step; it must be kept, running. */
type Case = [name: string, args: () => string[], code: string, exit: number, opts?: { env?: () => NodeJS.ProcessEnv; stdoutFile?: string; words?: RegExp; keeps?: boolean }];

const drill = (backupArg: () => string, sharesArg: () => string = () => shares): (() => string[]) => () => ['ceremony', 'run', 'backup-recovery-drill', '--demo', '--backup', backupArg(), '--drill-shares', sharesArg(), '--out', f(`out-${randomBytes(4).toString('hex')}`)];
const rootRun = (out: () => string, extra: string[] = []): (() => string[]) => () => ['ceremony', 'run', 'root-key-generation', '--demo', '--out', out(), ...extra];

const CASES: Case[] = [
  // ---- the cases of issue 21
  ['--out under /proc (used to spin at 100 % CPU)', rootRun(() => '/proc/keyrite-out'), 'OUTPUT_SPECIAL_FS', 1],
  ['a FIFO as --backup (used to block forever)', drill(() => fifo('backup.fifo')), 'BACKUP_NOT_A_FILE', 1],
  ['a FIFO as the drill shares file (used to block forever)', drill(() => backup, () => fifo('shares.fifo')), 'DRILL_SHARES_NOT_A_FILE', 1],
  ['--out that is a file', rootRun(() => write('plain-file', 'x')), 'OUTPUT_NOT_A_FOLDER', 1],
  ['--out under a file', rootRun(() => path.join(write('plain-file2', 'x'), 'bundle')), 'OUTPUT_UNDER_FILE', 1],
  ['--out a dangling symlink', rootRun(() => { const p = f('dangling-out'); if (!existsSync(p)) symlinkSync(f('nowhere/at/all'), p); return p; }), 'OUTPUT_DANGLING_LINK', 1],
  ['--pin-file that does not exist', () => ['hsm', 'keygen', '--type', 'ec-p256', '--label', 'x', '--pin-file', f('no-such-pin')], 'PIN_FILE_NOT_FOUND', 1],
  ['--pin-file that is a folder', () => ['hsm', 'keygen', '--type', 'ec-p256', '--label', 'x', '--pin-file', work], 'PIN_FILE_IS_FOLDER', 1],
  ['keyrite verify B > /dev/full', () => ['verify', bundle], 'OUTPUT_STDOUT_FAILED', 1, { stdoutFile: '/dev/full' }],
  ['keyrite inventory --csv > /dev/full', () => ['inventory', '--csv'], 'OUTPUT_STDOUT_FAILED', 1, { stdoutFile: '/dev/full' }],
  ['a YAML alias bomb as the script', () => ['ceremony', 'run', write('bomb-script.yaml', aliasBomb()), '--demo'], 'SCRIPT_TOO_COMPLEX', 1, { words: /aliases/ }],
  ['a YAML alias bomb as the answers file', () => ['ceremony', 'run', 'root-key-generation', '--answers', write('bomb-answers.yaml', aliasBomb()), '--out', f('o-bomb')], 'SCRIPT_TOO_COMPLEX', 1, { words: /answers file .*bomb-answers\.yaml/ }],
  ['a 20 001-step script (used to take 43 s and end in INTERNAL_NO_PROGRESS)', () => ['ceremony', 'run', write('many.yaml', manyStepsScript(20_000)), '--demo'], 'SCRIPT_TOO_LARGE', 1, { words: /more than the 1048576/ }],
  ['a zero-byte store (used to become a new empty store)', () => ['ceremony', 'status'], 'STORE_EMPTY_FILE', 1, { env: () => ({ KEYRITE_HOME: zeroStoreHome() }) }],
  ['a backup file with a duplicate "kcv" key (last value used to win)', drill(() => write('dup.backup.json', backupText().replace(/("kcv": "[0-9a-f]+",)/, '$1\n  "kcv": "00000000",'))), 'BACKUP_DUPLICATE_KEY', 1, { words: /'kek\.kcv' twice \(line \d+\)/ }],
  ['a backup file with a UTF-8 BOM (named, not printed)', drill(() => write('bom.backup.json', '\uFEFF' + backupText())), 'BACKUP_HAS_BOM', 1, { words: /byte-order mark/ }],
  ['plain garbage as the backup file (used to say "truncated")', drill(() => write('garbage.json', 'hello, this is not a backup at all\n')), 'BACKUP_NOT_A_BACKUP', 1],
  ['a symlink to /etc/shadow as the backup file', drill(() => { const p = f('shadow-link.json'); if (!existsSync(p)) symlinkSync('/etc/shadow', p); return p; }), 'BACKUP_NOT_A_BACKUP', 1],
  ['a custodian listed to sign a step that needs an admin and a witness', () => ['ceremony', 'run', 'root-key-generation', '--demo', '--answers', write('wrong-signer.yaml', 'signoffs:\n  check-in: [cora]\n'), '--out', f(`o-signer-${randomBytes(3).toString('hex')}`)], 'ANSWERS_SIGNOFF_WRONG_PERSON', 1, { words: /cora is custodian, not admin or witness/, keeps: true }],
  ['a folder listed in SHA256SUMS', () => ['verify', bundleWithFolderInSums()], 'BUNDLE_SUMS_LISTS_FOLDER', 1],
  ['hsm keygen with a wrong KEYRITE_TOKEN_LABEL (used to ask for the PIN first)', () => ['hsm', 'keygen', '--type', 'ec-p256', '--label', 'x'], 'HSM_TOKEN_NOT_FOUND', 1, { env: () => ({ KEYRITE_TOKEN_LABEL: 'no-such-token', KEYRITE_PKCS11_MODULE: '/usr/lib/softhsm/libsofthsm2.so', SOFTHSM2_CONF: path.join(home, 'softhsm', 'softhsm2.conf') }) }],

  // ---- more of our own
  ['--backup that is a folder', drill(() => work), 'BACKUP_IS_FOLDER', 1],
  ['--backup that does not exist', drill(() => f('missing.backup.json')), 'BACKUP_NOT_FOUND', 1],
  ['--backup /dev/zero (would read forever)', drill(() => '/dev/zero'), 'BACKUP_SPECIAL_FS', 1],
  ['--backup /proc/self/environ', drill(() => '/proc/self/environ'), 'BACKUP_SPECIAL_FS', 1],
  ['--backup a 2 MiB file', drill(() => write('huge.backup.json', '{' + ' '.repeat(2 * 1024 * 1024) + '}')), 'BACKUP_TOO_LARGE', 1],
  ['--backup random binary bytes', drill(() => write('random.bin', randomBytes(4096))), 'BACKUP_NOT_A_BACKUP', 1],
  ['--backup saved as UTF-16', drill(() => write('utf16.backup.json', Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(backupText(), 'utf16le')]))), 'BACKUP_NOT_A_BACKUP', 1],
  ['--backup a dangling symlink', drill(() => { const p = f('dangling.backup.json'); if (!existsSync(p)) symlinkSync(f('gone.json'), p); return p; }), 'BACKUP_DANGLING_LINK', 1],
  ['--backup with a nested duplicate key (split.threshold)', drill(() => write('dup2.backup.json', backupText().replace(/("threshold": \d+,)/, '$1 "threshold": 1,'))), 'BACKUP_DUPLICATE_KEY', 1, { words: /split\.threshold/ }],
  ['--answers that does not exist', () => ['ceremony', 'run', 'root-key-generation', '--answers', f('no-answers.yaml'), '--out', f('o-a1')], 'ANSWERS_NOT_FOUND', 1],
  ['--answers that is a folder', () => ['ceremony', 'run', 'root-key-generation', '--answers', work, '--out', f('o-a2')], 'ANSWERS_IS_FOLDER', 1],
  ['--answers a FIFO', () => ['ceremony', 'run', 'root-key-generation', '--answers', fifo('answers.fifo'), '--out', f('o-a3')], 'ANSWERS_NOT_A_FILE', 1],
  ['--answers with a UTF-8 BOM', () => ['ceremony', 'run', 'root-key-generation', '--answers', write('bom-answers.yaml', '\uFEFFpin: "123456"\n'), '--out', f('o-a4')], 'ANSWERS_HAS_BOM', 1],
  ['a script path that is a FIFO', () => ['ceremony', 'run', fifo('script.yaml'), '--demo'], 'SCRIPT_NOT_A_FILE', 1],
  ['a script under /proc', () => ['ceremony', 'run', '/proc/self/status', '--demo'], 'SCRIPT_SPECIAL_FS', 1],
  ['a 2 MB script', () => ['ceremony', 'run', write('big.yaml', '#'.repeat(2 * 1024 * 1024)), '--demo'], 'SCRIPT_TOO_LARGE', 1],
  ['a 300-step script', () => ['ceremony', 'run', write('300.yaml', manyStepsScript(300)), '--demo'], 'SCRIPT_INVALID', 1, { words: /at most 200 steps/ }],
  ['--drill-shares to write is a folder', rootRun(() => f('o-d1'), ['--drill-shares', '/tmp']), 'OUTPUT_NOT_A_FILE', 1],
  ['--drill-shares to write is a FIFO', rootRun(() => f('o-d2'), ['--drill-shares', fifo('write.fifo')]), 'OUTPUT_NOT_A_FILE', 1],
  ['--drill-shares to write under /proc', rootRun(() => f('o-d3'), ['--drill-shares', '/proc/keyrite-shares.txt']), 'OUTPUT_SPECIAL_FS', 1],
  ['--out under /sys', rootRun(() => '/sys/keyrite-out'), 'OUTPUT_SPECIAL_FS', 1],
  ['--out a symlink into /proc', rootRun(() => { const p = f('to-proc'); if (!existsSync(p)) symlinkSync('/proc/self', p); return path.join(p, 'x'); }), 'OUTPUT_SPECIAL_FS', 1],
  ['--pin-file /dev/zero', () => ['hsm', 'keygen', '--type', 'ec-p256', '--label', 'x', '--pin-file', '/dev/zero'], 'PIN_FILE_SPECIAL_FS', 1],
  ['--pin-file of 1 MB', () => ['hsm', 'keygen', '--type', 'ec-p256', '--label', 'x', '--pin-file', write('huge-pin', '1'.repeat(1024 * 1024))], 'PIN_FILE_TOO_LARGE', 1],
  ['--pin-file that is empty', () => ['hsm', 'keygen', '--type', 'ec-p256', '--label', 'x', '--pin-file', write('empty-pin', '')], 'PIN_FILE_EMPTY', 1],
  ['a store that is a folder', () => ['ceremony', 'status'], 'STORE_NOT_A_FILE', 1, { env: () => ({ KEYRITE_HOME: folderStoreHome() }) }],
  ['a store that is a text file', () => ['ceremony', 'status'], 'STORE_NOT_A_STORE', 1, { env: () => ({ KEYRITE_HOME: textStoreHome() }) }],
  ["a store that is another program's SQLite database", () => ['ceremony', 'status'], 'STORE_FOREIGN', 1, { env: () => ({ KEYRITE_HOME: foreignStoreHome() }) }],
  ['verify --json > /dev/full', () => ['verify', '--json', bundle], 'OUTPUT_STDOUT_FAILED', 1, { stdoutFile: '/dev/full' }],
  ['verify a bundle holding a FIFO', () => ['verify', bundleWithFifo()], 'BUNDLE_FILE_NOT_REGULAR', 1],
  ['verify a file instead of a folder', () => ['verify', backup], 'BUNDLE_NOT_FOUND', 1],
  ['export pub --out under a file', () => ['export', 'pub', '--label', 'nope', '--out', path.join(write('plain-file3', 'x'), 'key.pem')], 'OUTPUT_UNDER_FILE', 1, { env: () => ({ SOFTHSM2_CONF: path.join(home, 'softhsm', 'softhsm2.conf') }) }],
];

function freshHome(name: string, store: (file: string) => void): string {
  const h = f(name);
  if (!existsSync(h)) {
    mkdirSync(h, { recursive: true });
    store(path.join(h, 'keyrite.sqlite'));
  }
  return h;
}
const zeroStoreHome = (): string => freshHome('home-zero', (s) => writeFileSync(s, ''));
const folderStoreHome = (): string => freshHome('home-folder', (s) => mkdirSync(s));
const textStoreHome = (): string => freshHome('home-text', (s) => writeFileSync(s, 'my notes about keys\n'));
const foreignStoreHome = (): string => freshHome('home-foreign', (s) => execFileSync('python3', ['-c', `import sqlite3; c = sqlite3.connect(${JSON.stringify(s)}); c.execute('create table photos (id integer)'); c.commit()`]));
function bundleWithFolderInSums(): string {
  const copy = f('bundle-folder-in-sums');
  if (!existsSync(copy)) {
    cpSync(bundle, copy, { recursive: true });
    const sums = readFileSync(path.join(copy, 'SHA256SUMS'), 'utf8');
    const lines = [...sums.trimEnd().split('\n'), `${'0'.repeat(64)}  backup`].sort((a, b) => (a.slice(66) < b.slice(66) ? -1 : 1));
    writeFileSync(path.join(copy, 'SHA256SUMS'), lines.join('\n') + '\n');
  }
  return copy;
}
function bundleWithFifo(): string {
  const copy = f('bundle-with-fifo');
  if (!existsSync(copy)) {
    cpSync(bundle, copy, { recursive: true });
    execFileSync('mkfifo', [path.join(copy, 'keys', 'extra.pem')]);
  }
  return copy;
}

describe('hostile and mistaken inputs: one coded line, the right exit code, nothing lost', () => {
  it('the table has every case of issue 21 and at least as many more', () => {
    expect(CASES.length).toBeGreaterThanOrEqual(2 * 21);
    expect(new Set(CASES.map((c) => c[0])).size).toBe(CASES.length);
  });

  it.each(CASES)('%s → %s', (_name, args, code, exit, opts = {}) => {
    const before = snapshot();
    const r = keyrite(args(), { env: opts.env?.(), stdoutFile: opts.stdoutFile });
    expect(r.signal, `killed after ${r.ms} ms: it hung`).toBeNull();
    expect(r.ms).toBeLessThan(55_000);
    expect(r.status, r.stderr).toBe(exit);
    const lines = r.stderr.trim().split('\n');
    expect(lines, r.stderr).toHaveLength(1);
    expect(lines[0]).toMatch(new RegExp(`^keyrite: .+ \\[${code}\\]$`));
    // Words a custodian can act on: no raw errno text, no stack, no invisible characters.
    expect(lines[0]).not.toMatch(/\b(ENOENT|ENOTDIR|EISDIR|EACCES|ENOSPC)\b:|\n\s+at |User force closed|\uFEFF/);
    if (opts.words) expect(lines[0]).toMatch(opts.words);
    const after = snapshot();
    if (!opts.keeps) expect(after).toBe(before);
    else {
      // Same files; the ceremonies as before plus the one this run started, kept running to resume.
      expect(after.split(' ')[0]).toBe(before.split(' ')[0]);
      const added = after.split(' ')[1].split(',').filter((c) => !before.split(' ')[1].split(',').includes(c));
      expect(added).toHaveLength(1);
      expect(added[0]).toMatch(/:running:\d+$/);
    }
  });

  it('--out in a folder the user may not write to is OUTPUT_PERMISSION (run as an unprivileged user)', () => {
    const locked = f('locked');
    mkdirSync(locked, { mode: 0o555, recursive: true });
    const nobodyHome = tempDir('hostile-nobody');
    execFileSync('chmod', ['0777', nobodyHome]);
    const r = spawnSync(process.execPath, ['bin/keyrite.mjs', 'ceremony', 'run', 'root-key-generation', '--demo', '--out', path.join(locked, 'b')], {
      env: { ...baseEnv, KEYRITE_HOME: nobodyHome, HOME: nobodyHome },
      encoding: 'utf8',
      uid: 65534,
      gid: 65534,
      timeout: 20_000,
    });
    expect(r.stderr).toMatch(/\[OUTPUT_PERMISSION\]$/m);
    expect(r.status).toBe(1);
    expect(readdirSync(locked)).toEqual([]);
  });

  it('Ctrl-C at a ceremony prompt is CEREMONY_INTERRUPTED with how to resume, exit 130; the ceremony is kept', () => {
    const rules = f('ctrl-c.json');
    writeFileSync(rules, JSON.stringify([['Start with these parameters', 'y\r'], ['full name', '\u0003']]));
    const out = f('o-ctrl-c');
    const r = spawnSync('python3', ['test/helpers/pty-driver.py', rules, '--', process.execPath, 'bin/keyrite.mjs', 'ceremony', 'run', 'root-key-generation', '--param', `subject=${ROOT_SUBJECT.subject}`, '--out', out], {
      // A person at a terminal: CI=true (as on CI) would make Keyrite refuse to prompt.
      env: { ...baseEnv, CI: '' },
      encoding: 'utf8',
      timeout: 60_000,
    });
    expect(r.stdout).not.toContain('User force closed');
    const id = /Ceremony (\S+):/.exec(r.stdout)![1];
    expect(r.stdout).toMatch(new RegExp(`Stopped by Ctrl-C at step 1 \\(Participant check-in\\); the screen was cleared\\. Everything up to the last answer is saved\\. Resume with \`keyrite ceremony resume ${id}\`\\. \\[CEREMONY_INTERRUPTED\\]`));
    expect(r.status).toBe(130);
    const status = JSON.parse(keyrite(['ceremony', 'status', '--json']).stdout) as Array<{ id: string; status: string }>;
    expect(status.find((c) => c.id === id)?.status).toBe('running');
  });

  it('keyrite … | head (EPIPE) stays a quiet exit 0', () => {
    const r = spawnSync('sh', ['-c', `${JSON.stringify(process.execPath)} bin/keyrite.mjs verify ${JSON.stringify(bundle)} | head -c 10 >/dev/null; echo "rc=\${PIPESTATUS:-0}"`], { env: baseEnv, encoding: 'utf8', timeout: 20_000 });
    expect(r.stderr).toBe('');
  });
});

describe('sign-off messages that say exactly what is wrong (real SoftHSM)', () => {
  const hsm = createTestHsm(['root']);

  it('a witness signing with the role hint officer is told they checked in as witness, not officer', async () => {
    const service = await openService(tempDir('hostile-signoff-home'), hsm.config('root'));
    try {
      let view = await service.start({ script: 'root-key-generation', outDir: path.join(tempDir('hostile-signoff-out'), 'b'), parameters: ROOT_SUBJECT });
      const driver = new AnswersDriver(answersFor(hsm));
      while (view.current && view.current.id !== 'hsm-login') view = await service.provide(view.ceremonyId, driver.next(view)!);
      view = await service.provide(view.ceremonyId, { kind: 'pin', pin: hsm.userPin });
      expect(view.current!.need.kind).toBe('signoff');
      const wrong = await service.provide(view.ceremonyId, { kind: 'signoff', personId: 'wren', role: 'officer' });
      expect(wrong.lastError).toMatchObject({ code: 'CEREMONY_SIGNOFF_ROLE' });
      expect(wrong.lastError!.message).toBe("Wren Witness checked in as witness, not as officer, so cannot sign off step 'HSM login' as officer. Sign as witness instead.");
      // Nothing lost: the same witness then signs as witness.
      const ok = await service.provide(view.ceremonyId, { kind: 'signoff', personId: 'wren', role: 'witness' });
      expect(ok.lastError).toBeNull();
      const twice = await service.provide(view.ceremonyId, { kind: 'signoff', personId: 'will', role: 'witness' });
      expect(twice.lastError!.message).toMatch(/has all the witness sign-offs it needs; it still needs an officer/);
    } finally {
      await service.close();
    }
  });
});
