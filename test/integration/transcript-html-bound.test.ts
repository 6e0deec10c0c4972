import { spawnSync } from 'node:child_process';
import { cpSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { AnswersDriver, driveWithAnswers } from '../../src/core/ceremony/answers';
import type { StepInput } from '../../src/core/ceremony/types';
import { formatSha256Sums, listBundleFiles, sha256File } from '../../src/core/transcript/sha256sums';
import { verifyBundle } from '../../src/core/transcript';
import { answersFor, openService, tempDir, ROOT_SUBJECT } from '../helpers/ceremony';
import { createTestHsm } from '../helpers/softhsm';

/**
 * Issue 15: transcript.html is bound to the signed chain (verify re-renders it byte for byte), and
 * the auditor's standard-tools check in docs/formats.md covers the in-chain file hashes and
 * unlisted files — run here exactly as the docs print it.
 */
const hsm = createTestHsm(['html']);
const bundle = path.join(tempDir('html-bundle'), 'bundle');
const auditorCheck = /<!-- auditor-check:start -->\n```bash\n([\s\S]*?)```\n<!-- auditor-check:end -->/.exec(readFileSync('docs/formats.md', 'utf8'))![1];

beforeAll(async () => {
  const service = await openService(tempDir('html-home'), hsm.config('html'));
  try {
    const start = await service.start({ script: 'root-key-generation', outDir: bundle, parameters: { ...ROOT_SUBJECT } });
    const done = await driveWithAnswers(start, (input: StepInput) => service.provide(start.ceremonyId, input), new AnswersDriver(answersFor(hsm)));
    expect(done.status).toBe('sealed');
  } finally {
    await service.close();
  }
});

/** A copy of the sealed bundle, changed by `edit`, with SHA256SUMS recomputed as a forger would. */
async function forged(edit: (dir: string) => void, resum = true): Promise<string> {
  const dir = path.join(tempDir('html-forged'), 'bundle');
  cpSync(bundle, dir, { recursive: true });
  edit(dir);
  if (resum) {
    const files = (await listBundleFiles(dir)).filter((f) => f !== 'SHA256SUMS');
    const entries = [];
    for (const file of files) entries.push({ file, sha256: sha256File(path.join(dir, file)) });
    writeFileSync(path.join(dir, 'SHA256SUMS'), formatSha256Sums(entries));
  }
  return dir;
}

const keyriteVerify = (dir: string) => spawnSync(process.execPath, ['bin/keyrite.mjs', 'verify', dir], { encoding: 'utf8', timeout: 60_000 });
const audit = (dir: string) => spawnSync('bash', ['-c', auditorCheck], { cwd: dir, encoding: 'utf8', timeout: 60_000 });

describe('transcript.html bound to the signed chain', () => {
  it('a sealed bundle passes keyrite verify and the documented auditor check, which prints the final hash', () => {
    expect(keyriteVerify(bundle).status).toBe(0);
    const r = audit(bundle);
    expect(r.status, r.stdout + r.stderr).toBe(0);
    const last = JSON.parse(readFileSync(path.join(bundle, 'transcript.jsonl'), 'utf8').trim().split('\n').at(-1)!);
    expect(r.stdout.trim().split('\n').at(-1)).toBe(last.hash);
    expect(last.data.htmlFormat).toBe(2);
  });

  it('a participant renamed in transcript.html, SHA256SUMS recomputed: verify fails with TRANSCRIPT_HTML_MISMATCH', async () => {
    const dir = await forged((d) => {
      const f = path.join(d, 'transcript.html');
      const html = readFileSync(f, 'utf8');
      expect(html).toContain('Cora One');
      writeFileSync(f, html.replaceAll('Cora One', 'Mallory Evil'));
    });
    // What the issue reproduced: the signature and SHA256SUMS alone do not notice.
    expect(spawnSync('sha256sum', ['--quiet', '-c', 'SHA256SUMS'], { cwd: dir }).status).toBe(0);
    const r = keyriteVerify(dir);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('TRANSCRIPT_HTML_MISMATCH');
    await expect(verifyBundle(dir)).rejects.toMatchObject({ code: 'TRANSCRIPT_HTML_MISMATCH', details: { file: 'transcript.html', line: expect.any(Number) } });
  });

  it.each([
    ['a whitespace change', (html: string) => html.replace('</body>', ' </body>')],
    ['a removed sign-off line', (html: string) => html.replace(/<li>[^<]*\(witness\)[^<]*<\/li>/, '')],
    ['an added note', (html: string) => html.replace('<footer>', '<p>Approved by the board.</p>\n<footer>')],
  ])('%s in transcript.html is refused', async (_name, edit) => {
    const dir = await forged((d) => {
      const f = path.join(d, 'transcript.html');
      const html = readFileSync(f, 'utf8');
      const changed = edit(html);
      expect(changed).not.toBe(html);
      writeFileSync(f, changed);
    });
    await expect(verifyBundle(dir)).rejects.toMatchObject({ code: 'TRANSCRIPT_HTML_MISMATCH' });
  });

  it('an unlisted file fails keyrite verify (BUNDLE_FILE_UNLISTED) and the auditor check', async () => {
    const dir = await forged((d) => writeFileSync(path.join(d, 'keys', 'extra.pem'), 'not from the ceremony\n'), false);
    const r = keyriteVerify(dir);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('BUNDLE_FILE_UNLISTED');
    const a = audit(dir);
    expect(a.status).not.toBe(0);
    expect(a.stdout).toContain('keys/extra.pem');
  });

  it('a backup file swapped with SHA256SUMS recomputed fails both: the signed chain records its hash', async () => {
    const dir = await forged((d) => {
      const backup = (readFileSync(path.join(d, 'SHA256SUMS'), 'utf8').match(/backup\/\S+\.backup\.json/) ?? [''])[0];
      const f = path.join(d, backup);
      writeFileSync(f, readFileSync(f, 'utf8').replace(/"threshold":\s*3/, '"threshold": 2'));
    });
    expect(spawnSync('sha256sum', ['--quiet', '-c', 'SHA256SUMS'], { cwd: dir }).status).toBe(0);
    expect(keyriteVerify(dir).stderr).toContain('BUNDLE_FILE_CHANGED');
    const a = audit(dir);
    expect(a.status).not.toBe(0);
    expect(a.stdout + a.stderr).toMatch(/backup\/\S+\.backup\.json: FAILED/);
  });
  // verify compares transcript.html piece by piece as it renders (StreamingByteCompare): wherever a
  // byte changes — in any batch, on a multi-byte character, at the very end — it is refused, and
  // the error names that byte and its line.
  it('a byte changed anywhere in transcript.html (seeded) is refused at that byte and line', async () => {
    const original = readFileSync(path.join(bundle, 'transcript.html'));
    await fc.assert(
      fc.asyncProperty(fc.nat({ max: original.length - 1 }), fc.integer({ min: 1, max: 255 }), async (pos, xor) => {
        const dir = await forged((d) => {
          const changed = Buffer.from(original);
          changed[pos] ^= xor;
          writeFileSync(path.join(d, 'transcript.html'), changed);
        });
        let line = 1;
        for (let i = 0; i < pos; i++) if (original[i] === 0x0a) line++;
        await expect(verifyBundle(dir)).rejects.toMatchObject({ code: 'TRANSCRIPT_HTML_MISMATCH', details: { file: 'transcript.html', byte: pos, line } });
      }),
      { seed: 1818, numRuns: 25 },
    );
  });

  it('transcript.html cut short or extended (seeded) is refused where the bytes end', async () => {
    const original = readFileSync(path.join(bundle, 'transcript.html'));
    await fc.assert(
      fc.asyncProperty(fc.nat({ max: original.length - 1 }), fc.boolean(), async (pos, cut) => {
        const dir = await forged((d) => {
          writeFileSync(path.join(d, 'transcript.html'), cut ? original.subarray(0, pos) : Buffer.concat([original, Buffer.from('x'.repeat((pos % 7) + 1))]));
        });
        await expect(verifyBundle(dir)).rejects.toMatchObject({ code: 'TRANSCRIPT_HTML_MISMATCH', details: { byte: cut ? pos : original.length } });
      }),
      { seed: 1819, numRuns: 15 },
    );
  });

  it('transcript.jsonl with a byte flipped or two lines swapped (seeded) is refused, never verified', async () => {
    const original = readFileSync(path.join(bundle, 'transcript.jsonl'));
    const lines = original.toString('utf8').trimEnd().split('\n');
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          fc.record({ kind: fc.constant('flip' as const), a: fc.nat({ max: original.length - 1 }), b: fc.integer({ min: 1, max: 255 }) }),
          fc.record({ kind: fc.constant('swap' as const), a: fc.nat({ max: lines.length - 1 }), b: fc.nat({ max: lines.length - 1 }) }),
        ),
        async (m) => {
          fc.pre(m.kind === 'flip' || lines[m.a] !== lines[m.b]);
          const dir = await forged((d) => {
            let changed: Buffer;
            if (m.kind === 'flip') {
              changed = Buffer.from(original);
              changed[m.a] ^= m.b;
            } else {
              const l = [...lines];
              [l[m.a], l[m.b]] = [l[m.b], l[m.a]];
              changed = Buffer.from(l.join('\n') + '\n');
            }
            writeFileSync(path.join(d, 'transcript.jsonl'), changed);
          });
          await expect(verifyBundle(dir)).rejects.toMatchObject({ code: expect.stringMatching(/^(TRANSCRIPT|BUNDLE)_[A-Z_]+$/) });
        },
      ),
      { seed: 1820, numRuns: 25 },
    );
  });
});
