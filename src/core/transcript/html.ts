import type { LayoutEvent } from './layout-event';
import { groupHex, hexToPgpWords } from './pgp-words';
import { stepOutcome, summarizeTranscript, type StepOutcome, type TranscriptSummary } from './summary';

/**
 * Version of the printable record's layout. `keyrite verify` regenerates transcript.html from the
 * signed transcript and requires the same bytes, so any change to this file's output must bump
 * it (and keep the old layout renderable for bundles already sealed). CEREMONY_SEALED records it.
 */
export const TRANSCRIPT_HTML_FORMAT = 2;

/** Layouts this Keyrite can render: 1 (no Parameters section) for bundles sealed before version 2. */
export const TRANSCRIPT_HTML_FORMATS: readonly number[] = [1, 2];

/**
 * transcript.html: the printable record witnesses sign. A pure function of the events (the final
 * hash is the last event's, the key fingerprint the one TRANSCRIPT_KEY_CREATED records): no clock,
 * no locale, no environment, so verify can rebuild it byte for byte. Self-contained: no scripts, no external
 * resources (a CSP meta tag forbids them), inline CSS only, laid out for A4/Letter paper.
 */
export function renderTranscriptHtml(events: readonly LayoutEvent[], info: { finalHash: string; keySpkiSha256: string; format?: number }): string {
  const parts: string[] = [];
  writeTranscriptHtml(events, info, (part) => parts.push(part));
  return parts.join('');
}

/**
 * The same bytes as renderTranscriptHtml, handed to `write` in order, piece by piece. The record of
 * a 100k-event ceremony is ~44 MB of text (two-byte in V8, for its dashes): nesting it in template
 * strings copied it several times over, so verify compares the pieces as they come instead.
 *
 * Each event's table row (eventRow, a function of that event alone) goes through `row`, so verify
 * can hand over rows its worker threads rendered (and encoded) while they checked the lines. Apart
 * from the rows, the layout reads `data` only as layoutEvent() keeps it: verify passes layout
 * events, not the full ones, and a new use of another field must be kept there too.
 */
export function writeTranscriptHtml(
  events: readonly LayoutEvent[],
  info: { finalHash: string; keySpkiSha256: string; format?: number; /** summarizeTranscript(events), when the caller has it already. */ summary?: TranscriptSummary },
  write: (part: string) => void,
  row: (e: LayoutEvent) => void = (e) => write(eventRow(e)),
): void {
  const format = info.format ?? TRANSCRIPT_HTML_FORMAT;
  const s = info.summary ?? summarizeTranscript(events);
  const finalWords = hexToPgpWords(info.finalHash);
  const keyWords = hexToPgpWords(info.keySpkiSha256);
  const byStep = new Map<string, LayoutEvent[]>();
  const outside: LayoutEvent[] = [];
  for (const e of events) {
    if (e.step === null) outside.push(e);
    else if (byStep.has(e.step)) byStep.get(e.step)!.push(e); // push, not copy: copying made sealing quadratic in a step's events
    else byStep.set(e.step, [e]);
  }
  const known = new Set(s.steps.map((st) => st.id));
  const stepBlocks: Array<() => void> = s.steps.map((st, i) => () => writeStepBlock(write, row, i + 1, st.id, st.title, st.say, byStep.get(st.id) ?? [], st.status));
  // Steps that happened but are not in the script's list (should not occur; never hide them).
  let extra = s.steps.length;
  for (const [id, evs] of byStep) {
    if (known.has(id)) continue;
    const n = ++extra;
    stepBlocks.push(() => writeStepBlock(write, row, n, id, id, '', evs, stepOutcome(evs, id)));
  }

  const outcome = s.outcome === 'sealed' ? 'Sealed' : s.outcome === 'aborted' ? 'Aborted (transcript sealed as evidence)' : 'Not sealed';
  write(`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(s.title)} — ceremony transcript ${esc(s.ceremony)}</title>
<style>${CSS}</style>
</head>
<body>
<header>
<p class="kicker">Keyrite key ceremony transcript</p>
<h1>${esc(s.title)}</h1>
${s.demo ? '<p class="demo">DEMO CEREMONY on a demonstration token — not for production keys.</p>' : ''}
<table class="facts">
${fact('Ceremony id', `<code>${esc(s.ceremony)}</code>`)}
${fact('Script', s.scriptId ? `<code>${esc(s.scriptId)}</code>${s.scriptVersion ? ` version ${esc(s.scriptVersion)}` : ''}${s.scriptSha256 ? `<br><span class="small">SHA-256 <code>${esc(groupHex(s.scriptSha256))}</code></span>` : ''}` : '—')}
${fact('Started', esc(s.startedAt))}
${fact('Ended', `${esc(s.endedAt)} · ${esc(outcome)}`)}
${fact('Steps', `${s.stepsCompleted} of ${s.steps.length} completed${s.steps.some((st) => st.status === 'aborted') ? ` · aborted at step ${s.steps.findIndex((st) => st.status === 'aborted') + 1}` : ''}`)}
${fact('Events', String(events.length))}
${s.appVersion ? fact('Keyrite version', esc(s.appVersion)) : ''}
</table>
</header>

${witnessBox(info.finalHash, finalWords, info.keySpkiSha256, keyWords, events.length)}

${format >= 2 ? parametersSection(events) : ''}

<section>
<h2>Participants</h2>
${s.participants.length === 0 ? '<p>No participant checked in.</p>' : `<table class="grid">
<thead><tr><th>Name</th><th>Id</th><th>Roles</th><th>Checked in (UTC)</th></tr></thead>
<tbody>
${s.participants.map((p) => `<tr><td>${esc(p.name)}</td><td><code>${esc(p.personId)}</code></td><td>${esc(p.roles.join(', '))}</td><td>${esc(p.checkedInAt)}</td></tr>`).join('\n')}
</tbody>
</table>`}
</section>

${s.keys.length > 0 ? `<section>
<h2>Keys</h2>
<table class="grid">
<thead><tr><th>Key</th><th>Label</th><th>Type</th><th>SPKI SHA-256</th><th>Event</th></tr></thead>
<tbody>
${s.keys.map((k) => `<tr><td><code>${esc(k.keyId)}</code></td><td>${esc(k.label ?? '—')}</td><td>${esc(k.type ?? '—')}</td><td><code class="hex">${esc(k.spkiSha256 ? groupHex(k.spkiSha256) : '—')}</code></td><td>${esc(k.event)} #${k.seq}</td></tr>`).join('\n')}
</tbody>
</table>
</section>` : ''}

<section>
<h2>Ceremony events outside the steps</h2>
`);
  writeEventTable(write, row, outside);
  write(`
</section>

<section>
<h2>Steps</h2>
`);
  if (stepBlocks.length === 0) write('<p>The script lists no steps.</p>');
  for (const [i, block] of stepBlocks.entries()) {
    if (i > 0) write('\n');
    block();
  }
  write(`
</section>

<section class="signatures">
<h2>Signatures</h2>
<p>By signing, each person confirms they were present, that the steps above were carried out as recorded,
and that the final transcript hash below was read aloud and matches the screen.</p>
<p class="small">Final transcript hash: <code class="hex">${esc(groupHex(info.finalHash))}</code></p>
${s.participants.map((p) => signatureLine(p.name, p.roles.join(', '))).join('\n')}
${signatureLine('', 'additional witness')}
${signatureLine('', 'additional witness')}
</section>

<footer>
<h2>How to check this transcript</h2>
<p>In the bundle folder, with Keyrite: <code>keyrite verify .</code> — without Keyrite:
<code>openssl dgst -sha384 -verify transcript-key.pem -signature transcript.sig transcript.jsonl</code>
(prints <code>Verified OK</code>), <code>sha256sum -c SHA256SUMS</code> and the rest of the auditor's check in
Keyrite's docs/formats.md (file hashes recorded in the signed chain, no unlisted files). Compare the final hash
and the transcript key fingerprint with this paper copy. This page is a rendering of <code>transcript.jsonl</code>:
<code>keyrite verify</code> renders it again from the signed events and requires the same bytes.</p>
</footer>
</body>
</html>
`);
}

const NEEDS_ESCAPE = /[&<>"']/;

function esc(text: string): string {
  // Most texts (times, types, hex, ids) need no escaping: test once instead of replacing five times.
  if (!NEEDS_ESCAPE.test(text)) return text;
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');
}

/**
 * The parameters the ceremony started with (CEREMONY_STARTED), as the Parameters page and the
 * terminal runner showed them, and the policy warnings given for them: what the witnesses sign
 * says which key type, m-of-n, subject and validity were chosen.
 */
function parametersSection(events: readonly LayoutEvent[]): string {
  const started = events.find((e) => e.type === 'CEREMONY_STARTED');
  const params = started?.data.parameters;
  if (!params || typeof params !== 'object') return '';
  const entries = Object.entries(params as Record<string, unknown>);
  const warnings = Array.isArray(started.data.policyWarnings) ? (started.data.policyWarnings as unknown[]).filter((w): w is string => typeof w === 'string') : [];
  return `<section class="parameters">
<h2>Parameters</h2>
${entries.length === 0 ? '<p>This ceremony has no parameters.</p>' : `<table class="facts">
${entries.map(([name, v]) => fact(name, value(v))).join('\n')}
</table>`}
${warnings.length > 0 ? `<p><strong>Policy warnings at the start:</strong></p><ul>${warnings.map((w) => `<li>${esc(w)}</li>`).join('')}</ul>` : ''}
</section>`;
}

function fact(label: string, html: string): string {
  return `<tr><th>${esc(label)}</th><td>${html}</td></tr>`;
}

function wordGrid(words: string[]): string {
  const cells = words.map((w, i) => `<li><span class="n">${i + 1}</span> ${esc(w)}</li>`).join('');
  return `<ol class="words">${cells}</ol>`;
}

function witnessBox(finalHash: string, finalWords: string[], keyHash: string, keyWords: string[], count: number): string {
  return `<section class="witness">
<h2>For the witnesses: read aloud and compare</h2>
<h3>Final transcript hash (event ${count}, SHA-256)</h3>
<p class="bighex"><code>${esc(groupHex(finalHash))}</code></p>
${wordGrid(finalWords)}
<h3>Transcript signing key fingerprint (SHA-256 of the public key)</h3>
<p class="bighex"><code>${esc(groupHex(keyHash))}</code></p>
${wordGrid(keyWords)}
<p class="small">Words are from the PGP word list: odd-numbered words have two syllables, even-numbered
words three, so a skipped or swapped word is heard at once.</p>
</section>`;
}

function writeStepBlock(write: (part: string) => void, row: (e: LayoutEvent) => void, n: number, id: string, title: string, scriptSay: string, evs: LayoutEvent[], status: StepOutcome): void {
  const started = [...evs].reverse().find((e) => e.type === 'STEP_STARTED');
  const say = typeof started?.data.say === 'string' ? started.data.say : scriptSay;
  const signOffs = evs.filter((e) => e.type === 'STEP_CONFIRMED').map((e) => {
    const who = typeof e.data.name === 'string' ? e.data.name : String(e.data.personId ?? e.actor ?? '');
    const role = typeof e.data.role === 'string' ? ` (${e.data.role})` : '';
    return `<li>${esc(who)}${esc(role)} — ${esc(e.at)}</li>`;
  });
  write(`<article class="step">
<h3>Step ${n}. ${esc(title)} <span class="status ${status.replace(/ /g, '-')}">${esc(status)}</span></h3>
<p class="small">Step id <code>${esc(id)}</code></p>
${say ? `<blockquote class="say">${esc(say).replace(/\n/g, '<br>')}</blockquote>` : ''}
${signOffs.length > 0 ? `<p><strong>Sign-offs</strong></p><ul class="signoffs">${signOffs.join('')}</ul>` : ''}
`);
  const custody = custodyTables(evs);
  if (custody) write(custody);
  writeEventTable(write, row, evs);
  write('\n</article>');
}

/**
 * The chain of custody a bags statement records: which bag holds which share, held by whom.
 * Only for events that carry it (and no new CSS), so transcripts sealed before it existed render
 * byte for byte as they did.
 */
function custodyTables(evs: LayoutEvent[]): string {
  return evs
    .filter((e) => e.type === 'STATEMENT_RECORDED' && Array.isArray(e.data.bags))
    .map((e) => {
      const rows = (e.data.bags as Array<Record<string, unknown>>).map((b) => `<tr><td><code>${esc(String(b.bag))}</code></td><td>${esc(String(b.shareIndex))}</td><td>${esc(String(b.custodian))}</td><td>&nbsp;</td></tr>`);
      const split = typeof e.data.splitId === 'string' ? ` of split <code>${esc(e.data.splitId)}</code>` : '';
      return `<p><strong>Chain of custody: sealed share bags</strong> (event #${e.seq}; shares${split})</p>
<table class="grid custody">
<thead><tr><th>Bag serial</th><th>Share</th><th>Custodian</th><th>Bag checked intact (initials)</th></tr></thead>
<tbody>
${rows.join('\n')}
</tbody>
</table>
`;
    })
    .join('');
}

function writeEventTable(write: (part: string) => void, row: (e: LayoutEvent) => void, evs: LayoutEvent[]): void {
  if (evs.length === 0) {
    write('<p class="small">No events.</p>');
    return;
  }
  write(`<table class="grid events">
<thead><tr><th>#</th><th>Time (UTC)</th><th>Event</th><th>By</th><th>Evidence</th></tr></thead>
<tbody>
`);
  for (let i = 0; i < evs.length; i++) {
    if (i > 0) write('\n');
    row(evs[i]);
  }
  write(`
</tbody>
</table>`);
}

/** One event's row of an events table: a function of the event alone (its full data). */
export function eventRow(e: LayoutEvent): string {
  return `<tr><td>${e.seq}</td><td>${esc(e.at).replace('T', 'T<wbr>')}</td><td><code>${esc(e.type)}</code></td><td>${esc(e.actor ?? 'Keyrite')}</td><td>${evidence(e)}</td></tr>`;
}

/** Each event's data, compactly. Long script texts already shown elsewhere are summarized. */
function evidence(e: LayoutEvent): string {
  const data = e.data;
  const steps = e.type === 'CEREMONY_STARTED' && Array.isArray(data.steps) ? `${data.steps.length} steps (listed below)` : null;
  const dropSay = e.type === 'STEP_STARTED' && typeof data.say === 'string';
  // value(data) without copying data (this runs once per event): the same members in the same order.
  let members = '';
  for (const k of Object.keys(data)) {
    if (dropSay && k === 'say') continue;
    members += `<dt>${esc(k)}</dt><dd>${value(steps !== null && k === 'steps' ? steps : data[k])}</dd>`;
  }
  return members === '' ? '' : `<dl class="ev">${members}</dl>`;
}

// Hoisted: a regular expression literal in value() is a new object on every call (once per value
// of every event when verify renders the rows).
const LONG_HEX = /^[0-9a-f]{32,}$/i;

function value(v: unknown): string {
  if (v === null) return '<span class="small">null</span>';
  if (typeof v === 'string') {
    if (v.includes('-----BEGIN')) return `<pre class="pem">${esc(v)}</pre>`;
    // Shorter strings cannot match, and most values are short.
    if (v.length >= 32 && LONG_HEX.test(v)) return `<code class="hex">${esc(groupHex(v))}</code>`;
    return esc(v);
  }
  if (typeof v === 'number' || typeof v === 'boolean') return esc(String(v));
  if (Array.isArray(v)) {
    // Loops rather than every/map with a closure made per call (once per array of every event
    // when verify renders the rows). Arrays here come from JSON, so they have no holes.
    let out = '';
    if (allScalars(v)) {
      for (let i = 0; i < v.length; i++) out += (i === 0 ? '' : ', ') + value(v[i]);
      return out;
    }
    for (const x of v) out += `<li>${value(x)}</li>`;
    return `<ol class="ev">${out}</ol>`;
  }
  if (typeof v === 'object') {
    let members = '';
    for (const k of Object.keys(v)) members += `<dt>${esc(k)}</dt><dd>${value((v as Record<string, unknown>)[k])}</dd>`;
    return `<dl class="ev">${members}</dl>`;
  }
  return esc(String(v));
}

function allScalars(v: readonly unknown[]): boolean {
  for (const x of v) if (x !== null && typeof x === 'object') return false;
  return true;
}

function signatureLine(name: string, role: string): string {
  return `<div class="sigline">
<div><span class="line">${name ? esc(name) : '&nbsp;'}</span><span class="cap">Name${role ? ` · ${esc(role)}` : ''}</span></div>
<div><span class="line">&nbsp;</span><span class="cap">Signature</span></div>
<div class="date"><span class="line">&nbsp;</span><span class="cap">Date</span></div>
</div>`;
}

const CSS = `
@page { size: A4; margin: 16mm 14mm; }
* { box-sizing: border-box; }
body { font: 10.5pt/1.4 "DejaVu Sans", Helvetica, Arial, sans-serif; color: #111; margin: 0 auto; max-width: 190mm; padding: 8mm 0; }
h1 { font-size: 20pt; margin: 0 0 4mm; }
h2 { font-size: 13pt; border-bottom: 1.5pt solid #111; padding-bottom: 1mm; margin: 8mm 0 3mm; }
h3 { font-size: 11pt; margin: 4mm 0 2mm; }
code, pre, .bighex { font-family: "DejaVu Sans Mono", Menlo, Consolas, monospace; }
code.hex { word-break: break-all; }
.kicker { text-transform: uppercase; letter-spacing: .12em; font-size: 8.5pt; margin: 0; color: #444; }
.demo { border: 2pt solid #000; padding: 2mm 3mm; font-weight: bold; }
.small { font-size: 8.5pt; color: #333; }
table { border-collapse: collapse; width: 100%; }
table.facts th { text-align: left; width: 38mm; padding: 1mm 2mm 1mm 0; vertical-align: top; }
table.facts td { padding: 1mm 0; }
table.grid th, table.grid td { border: .5pt solid #777; padding: 1mm 1.5mm; vertical-align: top; text-align: left; }
table.grid thead th { background: #eee; }
table.events { table-layout: fixed; }
table.events th:nth-child(1) { width: 8mm; }
table.events th:nth-child(2) { width: 27mm; }
table.events td:nth-child(2) { overflow-wrap: normal; }
table.events th:nth-child(3) { width: 40mm; }
table.events th:nth-child(4) { width: 17mm; }
table.events td { font-size: 8.5pt; overflow-wrap: anywhere; }
table.events td code { font-size: 8pt; }
.witness { border: 1.5pt solid #111; padding: 2mm 4mm 3mm; margin-top: 6mm; break-inside: avoid; }
.witness h2 { border: 0; margin-top: 2mm; }
.bighex { font-size: 11.5pt; letter-spacing: .04em; margin: 1mm 0; }
ol.words { list-style: none; padding: 0; margin: 1mm 0 3mm; display: grid; grid-template-columns: repeat(4, 1fr); gap: .6mm 4mm; }
ol.words li { font-size: 10.5pt; }
ol.words .n { display: inline-block; min-width: 6mm; color: #555; font-size: 8pt; text-align: right; }
.step { border-top: .5pt solid #999; padding-top: 1mm; margin-bottom: 5mm; }
.status { font-weight: normal; font-size: 8.5pt; border: .5pt solid #333; padding: 0 1.5mm; margin-left: 2mm; }
.status.not-reached, .status.not-completed, .status.aborted { border-style: dashed; }
.status.aborted { font-weight: bold; }
blockquote.say { margin: 2mm 0; padding: 2mm 4mm; border-left: 2.5pt solid #111; background: #f4f4f4; font-style: italic; }
ul.signoffs { margin: 0 0 2mm; }
dl.ev { margin: 0; display: grid; grid-template-columns: max-content 1fr; gap: 0 2mm; }
dl.ev dt { font-weight: bold; }
dl.ev dd { margin: 0; word-break: break-word; }
ol.ev { margin: 0; padding-left: 5mm; }
pre.pem { font-size: 7pt; margin: 0; white-space: pre-wrap; }
.signatures { break-before: page; }
.sigline { display: grid; grid-template-columns: 2fr 2fr 1fr; gap: 6mm; margin: 9mm 0 2mm; break-inside: avoid; }
.sigline .line { display: block; border-bottom: .75pt solid #111; min-height: 7mm; padding-top: 2mm; }
.sigline .cap { display: block; font-size: 8pt; color: #444; }
footer { margin-top: 8mm; font-size: 9pt; break-inside: avoid; }
@media screen { body { padding: 10mm; } }
@media print { a { color: inherit; text-decoration: none; } }
`;
