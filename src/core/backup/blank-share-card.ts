import { SHARE_WORDS } from './share-codec';

const esc = (s: string): string => s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

/** What is known before the share is shown (printed on the card; the rest is a line to write on). */
export interface BlankCardFacts {
  splitId?: string;
  index?: number;
  count?: number;
  custodian?: string;
  keyId?: string;
}

/**
 * A blank share card for a custodian to write their share on by hand: split id, share index,
 * custodian, and 33 numbered boxes in the same 3 columns of 11, read top to bottom, as the share on
 * screen and the printed card. Holds no secret: it can be printed before the ceremony.
 */
export function renderBlankShareCardHtml(facts: BlankCardFacts = {}): string {
  const perColumn = Math.ceil(SHARE_WORDS / 3);
  const columns = [0, 1, 2].map((c) => Array.from({ length: Math.min(perColumn, SHARE_WORDS - c * perColumn) }, (_, i) => c * perColumn + i + 1));
  const blank = (v: string | number | undefined) => (v === undefined || v === '' ? '<span class="line"></span>' : `<strong>${esc(String(v))}</strong>`);
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<title>Blank share card${facts.splitId ? ` — split ${esc(facts.splitId)}` : ''}</title>
<style>
  body { font-family: system-ui, sans-serif; margin: 2rem; color: #000; }
  h1 { font-size: 1.3rem; margin: 0 0 .6rem; }
  .facts p { margin: .35rem 0; }
  .line { display: inline-block; min-width: 14em; border-bottom: 1px solid #000; height: 1.1em; vertical-align: bottom; }
  .grid { display: grid; grid-template-columns: repeat(3, 1fr); gap: 0 1.5rem; margin-top: 1rem; }
  .grid ol { list-style: none; margin: 0; padding: 0; }
  .grid li { display: flex; align-items: flex-end; gap: .5rem; height: 2.1rem; font-family: ui-monospace, monospace; }
  .grid .n { width: 2em; text-align: right; }
  .grid .box { flex: 1; border: 1px solid #000; height: 1.7rem; }
  .note { margin-top: 1.2rem; font-size: .85rem; }
  @media print { body { margin: 1cm; } }
</style>
</head>
<body>
<h1>Keyrite share card</h1>
<div class="facts">
<p>Key ${blank(facts.keyId)}</p>
<p>Split ${blank(facts.splitId)} · share ${blank(facts.index)} of ${blank(facts.count)}</p>
<p>Custodian ${blank(facts.custodian)}</p>
<p>Header line as shown: <span class="line" style="min-width: 28em"></span></p>
</div>
<div class="grid">
${columns.map((col) => `<ol>${col.map((n) => `<li><span class="n">${n}.</span><span class="box"></span></li>`).join('')}</ol>`).join('\n')}
</div>
<p class="note">Copy the words in the order of the numbers, column by column, exactly as the screen shows them. Once written, this card is secret: seal it in a tamper-evident bag and note the bag's serial.</p>
</body>
</html>
`;
}
