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

/** Wrap text at word boundaries; a word longer than the line stays whole on its own line. */
export function wrapWords(text: string, indent = '', width = terminalWidth()): string {
  const words = text.replace(/\s+/g, ' ').trim().split(' ').filter(Boolean);
  const lines: string[] = [];
  let line = '';
  for (const w of words) {
    if (line && indent.length + line.length + 1 + w.length > width) {
      lines.push(indent + line);
      line = w;
    } else line = line ? `${line} ${w}` : w;
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
