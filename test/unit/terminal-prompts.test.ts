import { describe, expect, it } from 'vitest';
import { encodeShare } from '../../src/core/backup/share-codec';
import { yesNo } from '../../src/cli/prompts';
import { enterShareWords } from '../../src/cli/share-word-entry';
import { scriptedPrompt } from '../helpers/scripted-prompt';
import { displayWidth, wordGrid, wrapWords } from '../../src/cli/terminal-layout';

/**
 * The terminal's yes/no answers and the share grid's width, table-driven. The pty test
 * (test/integration/terminal-keys.test.ts) drives the same through a real 40-column terminal.
 */
describe('a yes/no answer means what it says', () => {
  it.each([
    ['y', false, true], ['YES', false, true], ['  yes ', false, true],
    ['n', true, false], [' no', true, false], ['No\t', true, false],
    ['', true, true], ['', false, false],
    // Not answers: @inquirer's confirm took these as the default (Yes on a plain step) or by their first letter.
    ['wait', true, undefined], ['yes please', false, undefined], ['nope', true, undefined], ['ok', false, undefined], ['0', true, undefined],
  ] as const)('%j with default %s is %s', (typed, fallback, expected) => {
    expect(yesNo(typed, fallback)).toBe(expected);
  });
});

describe('the share grid fits the terminal', () => {
  const words = ['abandon', 'ability', 'abstract', 'zoo', 'language', 'absorb', 'mountain', 'exercise', 'dinosaur', 'question', 'position'];
  const share = [...Array(33).keys()].map((i) => words[i % words.length]);
  const numbered = (grid: string) => [...grid.matchAll(/(\d+)\. ([a-z]+)/g)].map((m) => [Number(m[1]), m[2]] as const).sort((a, b) => a[0] - b[0]);

  it.each([[40, 2], [50, 2], [51, 3], [80, 3], [100, 3]])('at %i columns: %i columns of words, no line wider than the terminal', (width, columns) => {
    const grid = wordGrid(share, '   ', width);
    const lines = grid.split('\n');
    for (const l of lines) expect(l.length, l).toBeLessThanOrEqual(width);
    expect(lines).toHaveLength(Math.ceil(33 / columns));
    // Every word keeps its own number, whatever the layout.
    expect(numbered(grid)).toEqual(share.map((w, i) => [i + 1, w]));
  });

  it("at the card's width the first row reads 1, 12, 23 as on the printed card", () => {
    expect(wordGrid(share, '   ', 80).split('\n')[0]).toMatch(/^\s+1\. \S+\s+12\. \S+\s+23\. \S+$/);
  });
});

/**
 * Share entry with lines pasted, as a person would paste them: a prompt is scripted to refuse an
 * answer its own validation refuses (as @inquirer does) and to accept the rest.
 */
describe('share entry: several words to a line', () => {
  const share = encodeShare({ version: 1, splitId: '7F3A-91C2', threshold: 2, count: 3, index: 1, share: new Uint8Array(33).map((_, i) => (i * 37 + 11) & 0xff) });

  it('takes a line of the card, tabs and trailing spaces included, then the rest of the share pasted with its numbers', async () => {
    const numbered = share.slice(10).map((w, i) => `${i + 11}. ${w}`).join('   ');
    const { p, refused } = scriptedPrompt([share.slice(0, 3).join(' '), `${share.slice(3, 10).join('\t')}  `, numbered, '']);
    expect(await enterShareWords(p, 'Cora', () => undefined)).toEqual(share);
    expect(refused).toEqual([]);
  });

  it('refuses a line with more words than are left, and names a wrong word by its number in the share', async () => {
    const wrong = [...share.slice(0, 4), 'qqqq', ...share.slice(5, 8)];
    const { p, refused } = scriptedPrompt([share[0], share.join(' '), wrong.slice(1).join(' '), share.slice(1).join(' '), '']);
    expect(await enterShareWords(p, 'Cora', () => undefined)).toEqual(share);
    expect(refused[0]).toBe('That is 33 words, but only 32 are left to type (words 2 to 33).');
    expect(refused[1]).toMatch(/^Word 5: 'qqqq' is not a share word\./);
    expect(refused).toHaveLength(2);
  });
});

describe('wrapping counts terminal columns, not characters', () => {
  it.each([
    ['山田太郎 (custodian), 佐藤花子 (custodian), 鈴木一郎 (witness), 高橋美咲 (officer)', 40],
    ['Ｆｕｌｌｗｉｄｔｈ ｎａｍｅｓ ａｒｅ ｔｙｐｅｄ ｔｏｏ ｓｏｍｅｔｉｍｅｓ ｉｎ ｔｈｅ ｒｏｏｍ', 40],
    ['Zoë Ångström (custodian), Zoë Ångström again, and José Müller', 40],
  ])('%s fits %i columns', (text, width) => {
    for (const line of wrapWords(text, '   ', width).split('\n')) expect(displayWidth(line), line).toBeLessThanOrEqual(width);
  });

  it('counts wide characters as two columns and combining marks as none', () => {
    expect(displayWidth('山田')).toBe(4);
    expect(displayWidth('Zoë')).toBe(3);
    expect(displayWidth('Zoe\u0308')).toBe(3);
    expect(displayWidth('abc')).toBe(3);
  });
});
