import QRCode from 'qrcode';
import { describe, expect, it } from 'vitest';
import { renderShareCardHtml } from '../../src/core/backup/share-card';
import type { IssuedShare } from '../../src/core/backup/issue-shares';
import { WORDS } from '../../src/core/backup/wordlist';

const share: IssuedShare = { index: 2, custodian: 'Zoë <script>alert(1)</script>', header: 'share 2 of 5 · needs 3 · split 7F3A-91C2', words: WORDS.slice(100, 133) };

describe('share card', () => {
  it('shows custodian, header line, 33 numbered words and a QR code of the words', async () => {
    const html = await renderShareCardHtml(share, { ceremonyTitle: 'Root key generation', keyId: 'ecp384-root' });
    expect(html).toContain('share 2 of 5 · needs 3 · split 7F3A-91C2');
    expect(html).toContain('Zoë &lt;script&gt;alert(1)&lt;/script&gt;');
    expect(html).not.toContain('<script>');
    expect(html.match(/<li>/g)).toHaveLength(33);
    expect(html).toContain('<ol class="words" start="1">');
    expect(html).toContain('<ol class="words" start="12">');
    expect(html).toContain('<ol class="words" start="23">');
    share.words.forEach((w) => expect(html).toContain(`<li>${w}</li>`));
    // The QR is exactly qrcode's SVG for the space-separated words.
    const qr = await QRCode.toString(share.words.join(' '), { type: 'svg', errorCorrectionLevel: 'M', margin: 2 });
    expect(html).toContain(qr);
    expect(html).toContain("default-src 'none'");
  });
});
