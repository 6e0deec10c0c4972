import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { enterShareWords } from '../../src/cli/share-word-entry';

/**
 * At recovery a custodian may hand over the file their own device decrypted ('file PATH' at the
 * first word) instead of typing 33 words. The prompt is scripted here as a person would answer it;
 * each answer must pass the prompt's own validation, as inquirer enforces.
 */
function scripted(answers: string[]) {
  const refused: string[] = [];
  const input = async (opts: { validate?: (v: string) => true | string }) => {
    for (;;) {
      const a = answers.shift();
      if (a === undefined) throw new Error('script ran out of answers');
      const v = opts.validate ? opts.validate(a) : true;
      if (v === true) return a;
      refused.push(v);
    }
  };
  return { p: { input } as unknown as Parameters<typeof enterShareWords>[0], refused };
}

describe('share entry from a decrypted file', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'keyrite-share-file-'));
  const file = path.join(dir, 'share.txt');
  writeFileSync(file, 'share 1 of 2 · needs 2 · split 7F3A-91C2\nabandon ability\n');

  it('"file PATH" at the first word returns the file, after refusing a missing one and a folder by name', async () => {
    const { p, refused } = scripted([`file ${path.join(dir, 'nope.txt')}`, `file ${dir}`, `FILE ${file}`]);
    expect(await enterShareWords(p, 'Cora', () => undefined)).toEqual({ file });
    expect(refused).toEqual([`There is no file '${path.join(dir, 'nope.txt')}'. Check the medium is mounted and the path.`, `'${dir}' is not a file.`]);
  });

  it('a file larger than a share could be is refused', async () => {
    const big = path.join(dir, 'big.txt');
    writeFileSync(big, 'x'.repeat(9000));
    const { p, refused } = scripted([`file ${big}`, `file ${file}`]);
    expect(await enterShareWords(p, 'Cora', () => undefined)).toEqual({ file });
    expect(refused[0]).toMatch(/9000 bytes: too large to be a share/);
  });

  it('"file" is only an answer at the first word: later it is an unknown word', async () => {
    const { p, refused } = scripted(['abandon', `file ${file}`]);
    await expect(enterShareWords(p, 'Cora', () => undefined)).rejects.toThrow('script ran out of answers');
    expect(refused[0]).toMatch(/is not a share word/);
  });
});
