import { useState } from 'react';
import { useAutoFocus } from '../app/hooks';
import type { StepProps } from './types';

/** "Cora Custodian" → "cc" (the core checks the same way). */
function initials(name: string): string {
  return name.trim().toLowerCase().split(/[\s-]+/).filter(Boolean).map((w) => [...w][0]).join('');
}

const norm = (s: string) => s.trim().replace(/\s+/g, ' ').toLowerCase();

/**
 * Sign-off as a personal act: the screen states what the person attests, and the person types
 * their own full name or initials. Nobody is preselected, so Enter pressed twice signs for nobody;
 * the transcript records how each person signed.
 */
export function Signoff({ need, view, busy, provide }: StepProps<'signoff'>): React.JSX.Element {
  const signedKey = need.signed.map((s) => `${s.personId}:${s.role}`).join(',');
  const inputRef = useAutoFocus<HTMLInputElement>(signedKey);
  const [typed, setTyped] = useState('');
  const [problem, setProblem] = useState('');
  const open = Object.entries(need.remaining).filter(([, n]) => n > 0);
  const candidates = view.participants
    .filter((p) => !need.signed.some((s) => s.personId === p.id))
    .map((p) => ({ person: p, role: p.roles.find((r) => (need.remaining[r] ?? 0) > 0) }))
    .filter((c): c is { person: (typeof view.participants)[number]; role: string } => Boolean(c.role));

  const submit = () => {
    if (busy) return;
    const t = norm(typed);
    if (!t) return setProblem('Type your own full name or your initials to sign.');
    const byName = candidates.filter((c) => norm(c.person.name) === t);
    const byInitials = candidates.filter((c) => initials(c.person.name) === t.replace(/[\s.]/g, ''));
    const hit = byName.length === 1 ? { ...byName[0], method: 'typed-name' as const } : byInitials.length === 1 ? { ...byInitials[0], method: 'typed-initials' as const } : null;
    if (!hit) {
      return setProblem(byInitials.length > 1 ? 'Those initials fit more than one person: type your full name.' : `“${typed.trim()}” is not the name or initials of anyone who may sign this step.`);
    }
    setProblem('');
    setTyped('');
    void provide({ kind: 'signoff', personId: hit.person.id, role: hit.role, typed: typed.trim(), method: hit.method });
  };

  return (
    <section className="signoff" aria-labelledby="signoff-title">
      <h2 id="signoff-title">Sign-off</h2>
      <figure className="attestation">
        <figcaption>By signing, each person attests:</figcaption>
        <blockquote>{need.attestation}</blockquote>
      </figure>
      {open.length > 0 ? (
        <p className="need-message">
          Still needed: {open.map(([role, n]) => `${n} × ${role}`).join(', ')}. Each person signs for themselves by typing their own name or initials.
        </p>
      ) : (
        <p className="need-message">Every sign-off is in.</p>
      )}
      {need.signed.length > 0 && (
        <ul className="signed" aria-label="Signed">
          {need.signed.map((s) => (
            <li key={`${s.personId}:${s.role}`}>
              <span aria-hidden="true">✔</span> {s.name} signed as {s.role}
            </li>
          ))}
        </ul>
      )}
      {candidates.length > 0 ? (
        <form
          className="signoff-form"
          onSubmit={(e) => {
            e.preventDefault();
            submit();
          }}
        >
          <p className="may-sign">
            May sign now:{' '}
            {candidates.map((c, i) => (
              <span key={c.person.id} data-name={c.person.name}>
                {i > 0 && ', '}
                {c.person.name} ({c.role})
              </span>
            ))}
          </p>
          <div className="field">
            <label htmlFor="signoff-typed">Your full name or initials</label>
            <input
              id="signoff-typed"
              ref={inputRef}
              value={typed}
              autoComplete="off"
              spellCheck={false}
              aria-invalid={problem ? true : undefined}
              aria-describedby={problem ? 'signoff-problem' : undefined}
              onChange={(e) => {
                setTyped(e.target.value);
                setProblem('');
              }}
            />
          </div>
          {problem && (
            <p id="signoff-problem" className="form-problem" role="alert">
              {problem}
            </p>
          )}
          <div className="actions">
            <button type="submit" disabled={busy || !typed.trim()}>
              I attest this — sign
            </button>
          </div>
        </form>
      ) : (
        open.length > 0 && (
          <p className="form-problem" role="alert">
            Nobody checked in can give the remaining sign-offs. Abort the ceremony and start again with the right people.
          </p>
        )
      )}
    </section>
  );
}
