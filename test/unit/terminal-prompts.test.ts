import { describe, expect, it } from 'vitest';
import { yesNo } from '../../src/cli/prompts';
import { wordGrid } from '../../src/cli/terminal-layout';

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
