/**
 * Share text, as a custodian types or pastes it, split into words. The one tokenizer for both
 * sides: the core decodes what it returns (src/core/backup/share-codec.ts) and the renderer
 * counts and checks words with it while the custodian types, so the screen never disagrees with
 * the decoder. Pure: no Node, no DOM — the one module of src/shared the core may import
 * (eslint.config.mjs). Test vector: test/fixtures/share-text-vectors.json.
 *
 * Accepts any case and Unicode compatibility forms (NFKC: full-width letters, ligatures), extra
 * spaces, line breaks, commas, semicolons and the header's '·', numbering ("1. word", "12) word",
 * "3: word"), trailing punctuation, and the header line ("share 2 of 5 · needs 3 · split 7F3A-91C2"),
 * which is skipped.
 */
export function shareTextWords(text: string): string[] {
  const out: string[] = [];
  for (const rawLine of text.normalize('NFKC').toLowerCase().split(/\r?\n/)) {
    if (/^\s*share\s+\d+\s+of\s+\d+\b/.test(rawLine)) continue;
    for (let token of rawLine.split(/[\s,;·]+/)) {
      token = token.replace(/^\d+[.):]*/, '').replace(/[.,;:!?]+$/, '');
      if (token.length > 0) out.push(token);
    }
  }
  return out;
}
