import QRCode from 'qrcode';
import type { IssuedShare } from './issue-shares';

const esc = (s: string): string => s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

/**
 * A printable card for one share: custodian, header line, the words in numbered columns and a
 * QR code of the same words. Built in memory only — the caller prints it and drops it; it must
 * never be written to disk, cached or logged.
 */
export async function renderShareCardHtml(share: IssuedShare, opts: { ceremonyTitle: string; keyId: string }): Promise<string> {
  // The QR holds exactly what a person would type: the words, space-separated (decodeShare reads it).
  const qr = await QRCode.toString(share.words.join(' '), { type: 'svg', errorCorrectionLevel: 'M', margin: 2 });
  const perColumn = Math.ceil(share.words.length / 3);
  const columns = [0, 1, 2].map((c) => share.words.slice(c * perColumn, (c + 1) * perColumn).map((w, i) => ({ n: c * perColumn + i + 1, w })));
  const list = columns
    .map((col) => `<ol class="words" start="${col[0]?.n ?? 1}">${col.map(({ w }) => `<li>${esc(w)}</li>`).join('')}</ol>`)
    .join('\n');
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">
<title>Share ${share.index} — ${esc(opts.keyId)}</title>
<style>
  body { font-family: system-ui, sans-serif; margin: 2rem; color: #000; }
  h1 { font-size: 1.3rem; margin: 0 0 .2rem; }
  .header { font-family: ui-monospace, monospace; font-size: 1.05rem; margin: .5rem 0 1rem; }
  .grid { display: flex; gap: 2rem; align-items: flex-start; }
  .words { font-family: ui-monospace, monospace; font-size: 1.05rem; line-height: 1.6; margin: 0; padding-left: 2.6em; }
  .qr svg { width: 200px; height: 200px; }
  .note { margin-top: 1.5rem; font-size: .85rem; }
  @media print { body { margin: 1cm; } }
</style>
</head>
<body>
<h1>${esc(opts.ceremonyTitle)}</h1>
<p>Key <strong>${esc(opts.keyId)}</strong> · custodian <strong>${esc(share.custodian)}</strong></p>
<p class="header">${esc(share.header)}</p>
<div class="grid">
${list}
<div class="qr">${qr}</div>
</div>
<p class="note">Keep this card secret and safe. Anyone holding enough shares can rebuild the backup key. Words may be typed as their first four letters.</p>
</body>
</html>
`;
}
