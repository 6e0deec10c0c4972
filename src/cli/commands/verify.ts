import type { Command } from 'commander';
import { isKeyriteError } from '../../core/errors';
import { escapeForTerminal } from '../../core/text/plain-text';
import { groupHex } from '../../core/transcript/pgp-words';
import { verifyBundle, type VerifyReport } from '../../core/transcript/verify';

export function registerVerifyCommands(program: Command): void {
  program
    .command('verify')
    .description('verify a sealed ceremony bundle offline: event chain, signature, transcript key, every file in SHA256SUMS')
    .argument('<bundle>', 'the bundle folder (holding transcript.jsonl)')
    .option('--json', 'print the report as JSON')
    .action(runVerify);
}

/**
 * `keyrite verify BUNDLE [--json]`: the command's whole work, also run without commander by the
 * direct path for its plain forms (src/cli/verify-direct.ts).
 */
export async function runVerify(bundle: string, opts: { json?: boolean }): Promise<void> {
  let report: VerifyReport;
  try {
    report = await verifyBundle(bundle);
  } catch (e) {
    // What to do next goes to stdout; stderr keeps its one-line reason with the code.
    const advice = isKeyriteError(e) && Array.isArray(e.details.advice) ? (e.details.advice as string[]) : [];
    if (advice.length > 0 && !opts.json) process.stdout.write(`THE BUNDLE DID NOT VERIFY. What to do next:\n${advice.map((a, i) => `  ${i + 1}. ${escapeForTerminal(a)}`).join('\n')}\n`);
    throw e;
  }
  process.stdout.write(opts.json ? JSON.stringify(report, null, 2) + '\n' : formatReport(report));
}

/**
 * The report as text. Everything in it that came from the bundle (title, ids, names, roles, labels,
 * types) is escaped, so a bundle cannot forge lines of this output with control characters,
 * ANSI escapes or bidirectional overrides.
 */
export function formatReport(r: VerifyReport): string {
  const t = escapeForTerminal;
  const lines: string[] = [];
  if (r.demo) lines.push('DEMO — this ceremony ran on the demo token: a rehearsal. Nothing in it is a real key; do not trust or publish it.', '');
  lines.push(`OK: bundle verified — ${r.events} events, chain, signature and ${r.files.length} files intact.`);
  lines.push('');
  lines.push(`Ceremony:     ${t(r.title)} (${t(r.ceremony)})${r.demo ? '  [DEMO]' : ''}`);
  lines.push(`Started:      ${t(r.startedAt)}`);
  lines.push(`Sealed:       ${t(r.sealedAt)}${r.outcome === 'aborted' ? '  (ceremony ABORTED; transcript sealed as evidence)' : ''}`);
  lines.push('Participants:');
  if (r.participants.length === 0) lines.push('  (none checked in)');
  for (const p of r.participants) lines.push(`  ${t(p.name)} (${t(p.personId)}) — ${p.roles.map(t).join(', ') || 'no role'}`);
  lines.push('Keys:');
  if (r.keys.length === 0) lines.push('  (none)');
  for (const k of r.keys) {
    lines.push(`  ${t(k.keyId)}${k.label ? ` '${t(k.label)}'` : ''}${k.type ? ` ${t(k.type)}` : ''} — ${k.event === 'KEY_RESTORED' ? 'restored' : 'generated'} (event ${k.seq})`);
    if (k.spkiSha256) lines.push(`    SPKI SHA-256 ${t(groupHex(k.spkiSha256))}`);
  }
  lines.push('');
  lines.push('Final transcript hash (compare with the signed paper copy):');
  lines.push(`  ${groupHex(r.finalHash)}`);
  lines.push(...wordLines(r.finalHashWords));
  lines.push('Transcript key fingerprint (SHA-256 of the public key):');
  lines.push(`  ${groupHex(r.transcriptKeySpkiSha256)}`);
  lines.push(...wordLines(r.transcriptKeyWords));
  return lines.join('\n') + '\n';
}

function wordLines(words: string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < words.length; i += 8) out.push(`  ${words.slice(i, i + 8).join(' ')}`);
  return out;
}
