import { groupHex } from '../transcript/pgp-words';
import type { LoadedScript } from './script';

/**
 * The printable ceremony script, for before the ceremony (ICANN style): every step's title and
 * what is read aloud, a line to tick, the time and the initials of whoever did it, and one line per
 * sign-off the step needs. The header names the script, its version and SHA-256 (compare it with the
 * transcript's CEREMONY_STARTED) and its parameters. Self-contained: no scripts, no external files.
 */
export function renderScriptHtml(loaded: LoadedScript): string {
  const s = loaded.script;
  const params = Object.entries(s.parameters);
  const steps = s.steps.map((step, i) => {
    const signoffs = Object.entries(step.confirm ?? {}).flatMap(([role, n]) => {
      const title = s.roles.find((r) => r.id === role)?.title ?? role;
      return Array.from({ length: n }, (_, k) => `<tr class="signoff"><td class="box">☐</td><td>Sign-off: ${esc(title)}${n > 1 ? ` ${k + 1} of ${n}` : ''} — name</td><td class="write"></td><td class="time"></td><td class="initials"></td></tr>`);
    });
    const fields = (step.fields ?? []).map((f) => `<tr><td class="box">☐</td><td>Record: ${esc(f.label)}${f.kind === 'bags' ? ' (one bag serial per share, with its custodian)' : ''}</td><td class="write"></td><td class="time"></td><td class="initials"></td></tr>`);
    return `<section class="step">
<h2>${i + 1}. ${esc(step.title)}${step.when ? ` <span class="small">(only if ${esc(step.when)})</span>` : ''}</h2>
<blockquote>${esc(step.say)}</blockquote>
<table>
<thead><tr><th class="box">Done</th><th>Line</th><th>Name / value</th><th class="time">Time (UTC)</th><th class="initials">Initials</th></tr></thead>
<tbody>
<tr><td class="box">☐</td><td>${step.action ? `Keyrite: <code>${esc(step.action)}</code>` : 'Read aloud and carried out'}</td><td class="write"></td><td class="time"></td><td class="initials"></td></tr>
${[...fields, ...signoffs].join('\n')}
</tbody>
</table>
</section>`;
  });
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<title>${esc(s.title)} — ceremony script ${esc(s.id)} v${esc(s.version)}</title>
<style>${CSS}</style>
</head>
<body>
<header>
<p class="kicker">Keyrite ceremony script — print before the ceremony, fill in by hand</p>
<h1>${esc(s.title)}</h1>
<table class="facts">
<tr><th>Script</th><td><code>${esc(s.id)}</code> version ${esc(s.version)}</td></tr>
<tr><th>Script SHA-256</th><td><code>${esc(groupHex(loaded.sha256))}</code><br><span class="small">Compare with the transcript's CEREMONY_STARTED (scriptSha256) and the screen.</span></td></tr>
<tr><th>Description</th><td>${esc(s.description)}</td></tr>
<tr><th>Roles</th><td>${s.roles.map((r) => `${esc(r.title)} (${r.min === r.max ? r.min : `${r.min}–${r.max}`})`).join('; ')}</td></tr>
</table>
${params.length > 0 ? `<h2>Parameters</h2>
<table>
<thead><tr><th>Parameter</th><th>Default</th><th>Description</th><th>Value used (fill in)</th></tr></thead>
<tbody>
${params.map(([name, p]) => `<tr><td><code>${esc(name)}</code></td><td>${p.default === undefined ? (p.required ? '<em>required</em>' : '—') : esc(String(p.default))}</td><td>${esc(p.description)}</td><td class="write"></td></tr>`).join('\n')}
</tbody>
</table>` : ''}
<p>Date: ______________ Place: ______________________ Ceremony id: ______________________</p>
</header>
${steps.join('\n')}
</body>
</html>
`;
}

function esc(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');
}

const CSS = `
@page { size: A4; margin: 14mm; }
body { font: 10.5pt/1.4 "DejaVu Sans", Helvetica, Arial, sans-serif; color: #111; max-width: 190mm; margin: 0 auto; }
h1 { font-size: 18pt; margin: 0 0 3mm; }
h2 { font-size: 12pt; margin: 5mm 0 2mm; }
.kicker { text-transform: uppercase; letter-spacing: .1em; font-size: 8pt; color: #444; }
.small { font-size: 8.5pt; color: #333; font-weight: normal; }
code { font-family: "DejaVu Sans Mono", monospace; }
table { border-collapse: collapse; width: 100%; }
th, td { border: .5pt solid #777; padding: 1.2mm 1.5mm; text-align: left; vertical-align: top; }
table.facts th { width: 35mm; }
.step { break-inside: avoid; }
blockquote { margin: 1mm 0 2mm; padding: 1.5mm 3mm; border-left: 2pt solid #111; background: #f4f4f4; font-style: italic; }
td.box, th.box { width: 11mm; text-align: center; font-size: 13pt; }
td.write { width: 48mm; }
td.time, th.time { width: 22mm; }
td.initials, th.initials { width: 20mm; }
tr.signoff td { height: 9mm; }
`;
