import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { tempDir } from '../helpers/ceremony';
import { runKeyrite } from '../helpers/cli';

// The blank share card from the real CLI: the same 3 columns of 11 numbered boxes as the share on
// screen and the printed card (column-wise: 1–11, 12–22, 23–33), with the facts given.
describe('keyrite share blank-card --html FILE', () => {
  it('writes 33 numbered boxes in 3 columns, column-wise, with split, index and custodian', () => {
    const out = path.join(tempDir('blank-card'), 'card.html');
    const r = runKeyrite(['share', 'blank-card', '--html', out, '--split', '7F3A-91C2', '--index', '2', '--count', '5', '--custodian', 'Cora <Custodian>']);
    expect(r.status, r.stderr).toBe(0);
    const html = readFileSync(out, 'utf8');
    const columns = [...html.matchAll(/<ol>(.*?)<\/ol>/g)].map((m) => [...m[1].matchAll(/<span class="n">(\d+)\.<\/span><span class="box"><\/span>/g)].map((x) => Number(x[1])));
    expect(columns).toEqual([Array.from({ length: 11 }, (_, i) => i + 1), Array.from({ length: 11 }, (_, i) => i + 12), Array.from({ length: 11 }, (_, i) => i + 23)]);
    expect(html).toContain('Split <strong>7F3A-91C2</strong> · share <strong>2</strong> of <strong>5</strong>');
    expect(html).toContain('Custodian <strong>Cora &lt;Custodian&gt;</strong>');
    expect(html).toContain("default-src 'none'");
  });

  it('leaves lines to write on when nothing is given; refuses a bad index and an existing file', () => {
    const dir = tempDir('blank-card');
    const r = runKeyrite(['share', 'blank-card', '--html', path.join(dir, 'blank.html')]);
    expect(r.status, r.stderr).toBe(0);
    expect(readFileSync(path.join(dir, 'blank.html'), 'utf8').match(/<span class="line"><\/span>/g)).toHaveLength(5);
    expect(runKeyrite(['share', 'blank-card', '--html', path.join(dir, 'x.html'), '--index', '0']).errorCode).toBe('USAGE');
    writeFileSync(path.join(dir, 'keep.html'), 'keep');
    expect(runKeyrite(['share', 'blank-card', '--html', path.join(dir, 'keep.html')]).errorCode).toBe('CEREMONY_ARTIFACT_EXISTS');
    expect(readFileSync(path.join(dir, 'keep.html'), 'utf8')).toBe('keep');
  });
});
