import { ERROR_DOMAINS } from './index';
import type { ErrorMeta } from './meta';

/** docs/errors.md, rendered from the registry; a test fails when the committed file differs. */
export function renderErrorsDoc(): string {
  const out: string[] = [
    '# Keyrite error codes',
    '',
    '<!-- Generated from src/core/error-codes/ by `node build/errors-doc.mjs`. Do not edit by hand. -->',
    '',
    'Every error Keyrite raises on purpose carries one of these codes (`KeyriteError.code`), a',
    'sentence saying what to do, and non-secret details. The code is stable: scripts, tests and the',
    'app branch on it. For each code the registry also says:',
    '',
    '- **fixed by** — who can act on it: the *custodian* at the keyboard (retype a share or a PIN),',
    '  the *operator* running the ceremony (insert the token, free space, resume), the',
    '  *administrator* who owns scripts, policy, profiles, settings and the HSM, or a *developer*',
    '  (a bug in Keyrite: report it);',
    '- **retry** — whether the same step can be tried again once the cause is fixed, without',
    '  editing a file;',
    '- **ends session** — whether the ceremony drops its PKCS#11 session, so the next attempt logs',
    '  in afresh (the token may be gone or reset).',
    '',
    'The summary is the message Keyrite shows, with `…` where it names the file, token, key or value.',
    '',
  ];
  for (const d of ERROR_DOMAINS) {
    const entries = Object.entries(d.codes as Record<string, ErrorMeta>).sort(([a], [b]) => a.localeCompare(b));
    out.push(`## ${d.title}`, '', '| Code | Fixed by | Retry | Ends session | Summary |', '| --- | --- | --- | --- | --- |');
    for (const [code, m] of entries) {
      out.push(`| \`${code}\` | ${m.fixedBy} | ${m.retryable ? 'yes' : 'no'} | ${m.endsHsmSession ? 'yes' : 'no'} | ${m.summary.replace(/\|/g, '\\|')} |`);
    }
    out.push('');
  }
  return out.join('\n');
}
