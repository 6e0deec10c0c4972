import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { enterShareWords } from '../../src/cli/share-word-entry';
import { scriptedPrompt } from '../helpers/scripted-prompt';

/**
 * At recovery a custodian may hand over the file their own device decrypted ('file PATH' at the
 * first word) instead of typing 33 words. The prompt is scripted here as a person would answer it;
 * each answer must pass the prompt's own validation, as inquirer enforces.
 */
describe('share entry from a decrypted file', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'keyrite-share-file-'));
  const file = path.join(dir, 'share.txt');
  writeFileSync(file, 'share 1 of 2 · needs 2 · split 7F3A-91C2\nabandon ability\n');

  it('"file PATH" at the first word returns the file, after refusing a missing one and a folder by name', async () => {
    const { p, refused } = scriptedPrompt([`file ${path.join(dir, 'nope.txt')}`, `file ${dir}`, `FILE ${file}`]);
    expect(await enterShareWords(p, 'Cora', () => undefined)).toEqual({ file });
    expect(refused).toEqual([`There is no file '${path.join(dir, 'nope.txt')}'. Check the medium is mounted and the path.`, `'${dir}' is not a file.`]);
  });

  it('a file larger than a share could be is refused', async () => {
    const big = path.join(dir, 'big.txt');
    writeFileSync(big, 'x'.repeat(9000));
    const { p, refused } = scriptedPrompt([`file ${big}`, `file ${file}`]);
    expect(await enterShareWords(p, 'Cora', () => undefined)).toEqual({ file });
    expect(refused[0]).toMatch(/9000 bytes: too large to be a share/);
  });

  it('"file" is only an answer at the first word: later it is an unknown word', async () => {
    const { p, refused } = scriptedPrompt(['abandon', `file ${file}`]);
    await expect(enterShareWords(p, 'Cora', () => undefined)).rejects.toThrow('script ran out of answers');
    expect(refused[0]).toMatch(/is not a share word/);
  });
});
