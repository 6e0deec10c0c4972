import { useAutoFocus } from '../app/hooks';
import type { StepProps } from './types';

/**
 * Sign-off: each person who must confirm the step presses their own button. The list shows who
 * has signed and how many are still needed per role; the first remaining button has focus.
 */
export function Signoff({ need, view, busy, provide }: StepProps<'signoff'>): React.JSX.Element {
  const signedKey = need.signed.map((s) => `${s.personId}:${s.role}`).join(',');
  const first = useAutoFocus<HTMLButtonElement>(signedKey);
  const open = Object.entries(need.remaining).filter(([, n]) => n > 0);
  const candidates = open.flatMap(([role]) =>
    view.participants.filter((p) => p.roles.includes(role) && !need.signed.some((s) => s.personId === p.id)).map((p) => ({ person: p, role })),
  );
  return (
    <section className="signoff" aria-labelledby="signoff-title">
      <h2 id="signoff-title">Sign-off</h2>
      {open.length > 0 ? (
        <p className="need-message">
          Still needed: {open.map(([role, n]) => `${n} × ${role}`).join(', ')}. Each person confirms for themselves.
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
      <div className="signoff-buttons">
        {candidates.map(({ person, role }, i) => (
          <button key={`${person.id}:${role}`} ref={i === 0 ? first : undefined} type="button" disabled={busy} onClick={() => void provide({ kind: 'signoff', personId: person.id, role })}>
            {person.name} confirms as {role}
          </button>
        ))}
        {candidates.length === 0 && open.length > 0 && (
          <p className="form-problem" role="alert">
            Nobody checked in can give the remaining sign-offs. Abort the ceremony and start again with the right people.
          </p>
        )}
      </div>
    </section>
  );
}
