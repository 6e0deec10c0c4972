import { isKeyriteError, KeyriteError } from '../errors';

/**
 * Refusals that mean "not a bundle to check" rather than "a bundle that was changed": no folder,
 * an empty one, a ceremony that never sealed, a layout from a newer Keyrite.
 */
const NOT_TAMPER = new Set(['BUNDLE_NOT_FOUND', 'BUNDLE_EMPTY', 'TRANSCRIPT_NOT_SEALED', 'TRANSCRIPT_HTML_FORMAT_UNSUPPORTED']);

/**
 * What an auditor does when a bundle fails verification: which file, keep the evidence, check the
 * other copies against the signed paper, and whom to call. One list for the desktop and the CLI.
 */
export function tamperAdvice(code: string, details: Record<string, unknown>, dir: string): string[] {
  // The chain's own errors are about transcript.jsonl; the others name their file.
  const file = typeof details.file === 'string' ? details.file : code.startsWith('TRANSCRIPT_') ? 'transcript.jsonl' : null;
  const where = [typeof details.seq === 'number' ? `event ${details.seq}` : null, typeof details.line === 'number' && details.line !== details.seq ? `line ${details.line}` : null].filter(Boolean).join(', ');
  return [
    'Stop: use nothing from this copy (keys, certificates, backup file) — it may have been altered.',
    file ? `The problem is in ${file}${where ? ` (${where})` : ''} in ${dir}.` : `The problem is in the bundle ${dir}${where ? ` (${where})` : ''}.`,
    `Keep this copy as evidence: do not open it in an editor, fix or delete anything; write down where it is and its SHA-256 now (sha256sum ${file ? `'${dir}/${file}'` : `'${dir}'/*`}).`,
    'Verify the other copies of the bundle (the second medium, the archive) and compare each final hash with the paper transcript the witnesses signed.',
    `Call the ceremony administrator and the security officer who signed the paper transcript, and give them the error code ${code}.`,
  ];
}

/** The same error with `details.advice` added when it means the bundle was changed. */
export function withTamperAdvice(e: unknown, dir: string): unknown {
  if (!isKeyriteError(e) || NOT_TAMPER.has(e.code) || !/^(TRANSCRIPT|BUNDLE)_/.test(e.code)) return e;
  return new KeyriteError(e.code, e.message, { details: { ...e.details, advice: tamperAdvice(e.code, e.details, dir) }, cause: e });
}
