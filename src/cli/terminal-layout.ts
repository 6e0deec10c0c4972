/**
 * Text layout for the terminal runner: words wrapped on word boundaries, and share words in the
 * same numbered columns as the printed share card (column-wise, 11 to a column), so what the
 * custodian copies from the screen reads the same way as a card.
 */

export const CLEAR_SCREEN_AND_SCROLLBACK = '\x1b[2J\x1b[3J\x1b[H';

/** The terminal's width, kept between 40 and 100 columns (wider lines are hard to read aloud). */
export function terminalWidth(columns = process.stdout.columns): number {
  return Math.max(40, Math.min(100, columns || 80));
}

/** East Asian wide and fullwidth characters (and emoji) take two columns of a terminal. */
const WIDE = /[\u1100-\u115f\u2e80-\u303e\u3041-\u33ff\u3400-\u4dbf\u4e00-\u9fff\ua000-\ua4cf\uac00-\ud7a3\uf900-\ufaff\ufe30-\ufe4f\uff00-\uff60\uffe0-\uffe6\u{1f300}-\u{1f64f}\u{1f900}-\u{1f9ff}\u{20000}-\u{3fffd}]/u;
/** Combining marks take none: they sit on the character before them. */
const ZERO = /[\p{M}\u200b-\u200f\ufeff]/u;

/** The columns a string takes on a terminal (not its length: 山田 is 2 characters and 4 columns). */
export function displayWidth(text: string): number {
  let width = 0;
  for (const ch of text) width += ZERO.test(ch) ? 0 : WIDE.test(ch) ? 2 : 1;
  return width;
}

/** Wrap text at word boundaries; a word longer than the line stays whole on its own line. */
export function wrapWords(text: string, indent = '', width = terminalWidth()): string {
  const words = text.replace(/\s+/g, ' ').trim().split(' ').filter(Boolean);
  const lines: string[] = [];
  const room = width - displayWidth(indent);
  let line = '';
  let used = 0;
  for (const w of words) {
    const cols = displayWidth(w);
    if (line && used + 1 + cols > room) {
      lines.push(indent + line);
      line = w;
      used = cols;
    } else {
      line = line ? `${line} ${w}` : w;
      used += (used ? 1 : 0) + cols;
    }
  }
  if (line) lines.push(indent + line);
  return lines.join('\n');
}

/** The printed card's grid: three columns, read top to bottom, then the next column. */
export const CARD_COLUMNS = 3;

/** One grid cell: the number, then the word padded past the longest list word (8 letters). */
const CELL = 14;
const GAP = 3;

/**
 * The words in numbered columns, read top to bottom. As many of the card's three columns as fit
 * the terminal: a row the terminal wrapped would put a number under the wrong word, and a
 * custodian copying it down could not tell which is which (three columns need 51).
 */
export function wordGrid(words: readonly string[], indent = '   ', width = terminalWidth()): string {
  let columns = CARD_COLUMNS;
  while (columns > 1 && indent.length + columns * CELL + (columns - 1) * GAP > width) columns--;
  const perColumn = Math.ceil(words.length / columns);
  const cell = (i: number) => (i < words.length ? `${String(i + 1).padStart(2)}. ${words[i].padEnd(CELL - 4)}` : '');
  const rows: string[] = [];
  for (let r = 0; r < perColumn; r++) {
    rows.push(indent + [...Array(columns).keys()].map((c) => cell(c * perColumn + r)).join(' '.repeat(GAP)).trimEnd());
  }
  return rows.join('\n');
}

/** A hex digest in groups of 8, wrapped on group boundaries. */
export function groupedHex(hex: string, indent = '', width = terminalWidth()): string {
  return wrapWords(hex.match(/.{1,8}/g)?.join(' ') ?? hex, indent, width);
}
