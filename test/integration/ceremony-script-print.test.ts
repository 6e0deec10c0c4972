import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { listScripts, loadScript } from '../../src/core/ceremony/script';
import { groupHex } from '../../src/core/transcript/pgp-words';
import { tempDir } from '../helpers/ceremony';
import { runKeyrite } from '../helpers/cli';

// The printable pre-ceremony script, written by the real CLI: header with id, version, SHA-256 and
// parameters; each step's title and read-aloud text; a checkbox, time and initials per line and
// per sign-off. Never overwrites a file.
describe('keyrite ceremony script <id> --html FILE', () => {
  it.each(listScripts().map((s) => s.id))('%s: every step and sign-off has its line, the header names the script', (id) => {
    const out = path.join(tempDir('script-html'), `${id}.html`);
    const r = runKeyrite(['ceremony', 'script', id, '--html', out]);
    expect(r.status, r.stderr).toBe(0);
    const loaded = loadScript(id);
    expect(r.stdout).toContain(`SHA-256 ${loaded.sha256}`);
    const html = readFileSync(out, 'utf8');
    expect(html).toContain(`<code>${id}</code> version ${loaded.script.version}`);
    expect(html).toContain(groupHex(loaded.sha256));
    for (const name of Object.keys(loaded.script.parameters)) expect(html).toContain(`<code>${name}</code>`);
    const esc = (t: string) => t.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');
    for (const [i, step] of loaded.script.steps.entries()) {
      expect(html).toContain(`<h2>${i + 1}. ${esc(step.title)}`);
      expect(html).toContain(esc(step.say));
    }
    const signoffs = loaded.script.steps.reduce((n, s) => n + Object.values(s.confirm ?? {}).reduce((a, b) => a + b, 0), 0);
    const fields = loaded.script.steps.reduce((n, s) => n + (s.fields?.length ?? 0), 0);
    expect(html.match(/<td class="box">☐<\/td>/g)).toHaveLength(loaded.script.steps.length + signoffs + fields);
    expect(html.match(/<tr class="signoff">/g)?.length ?? 0).toBe(signoffs);
    expect(html.match(/<td class="initials"><\/td>/g)).toHaveLength(loaded.script.steps.length + signoffs + fields);
    expect(html).toContain("content=\"default-src 'none'; style-src 'unsafe-inline'\"");
  }, 30_000);

  it('refuses to overwrite a file and an unknown script, with their codes', () => {
    const out = path.join(tempDir('script-html'), 'exists.html');
    writeFileSync(out, 'keep me');
    const r = runKeyrite(['ceremony', 'script', 'root-key-generation', '--html', out]);
    expect(r.errorCode).toBe('CEREMONY_ARTIFACT_EXISTS');
    expect(readFileSync(out, 'utf8')).toBe('keep me');
    const u = runKeyrite(['ceremony', 'script', 'no-such-ceremony', '--html', path.join(path.dirname(out), 'x.html')]);
    expect(u.status).not.toBe(0);
    expect(u.errorCode).toMatch(/^(CEREMONY_SCRIPT_UNKNOWN|SCRIPT_)/);
  }, 30_000);
});
