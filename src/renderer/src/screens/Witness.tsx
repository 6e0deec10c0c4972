import { useEffect, useState } from 'react';
import { asApiError, call, keyrite, type ApiError } from '../app/api';
import { HashDisplay } from '../components/HashDisplay';
import type { WitnessViewData } from '../../../shared/ipc-contract';

const POLL_MS = 1000;

/**
 * The witness window: follows the ceremony for the room (step, read-aloud text, sign-offs,
 * fingerprints, chain head). It asks only for the witness view, which carries no share and no
 * PIN, and the main process refuses it every other channel.
 */
export function Witness(): React.JSX.Element {
  const [view, setView] = useState<WitnessViewData | null | undefined>();
  const [error, setError] = useState<ApiError | undefined>();
  // A sealed ceremony stays on screen (final hash, fingerprints) until the room dismisses it.
  const [dismissed, setDismissed] = useState<string | null>(null);
  useEffect(() => {
    let live = true;
    let inFlight = false;
    const tick = async () => {
      // One request at a time: a long HSM operation must not pile up polls behind it.
      if (inFlight) return;
      inFlight = true;
      try {
        const v = await call(keyrite().ceremony.witness());
        if (live) {
          setView(v);
          setError(undefined);
        }
      } catch (e) {
        if (live) setError(asApiError(e));
      } finally {
        inFlight = false;
      }
    };
    void tick();
    const timer = setInterval(() => void tick(), POLL_MS);
    return () => {
      live = false;
      clearInterval(timer);
    };
  }, []);

  if (error) {
    return (
      <main className="witness" role="alert">
        <h1>Witness view</h1>
        <p className="error-message">{error.message}</p>
        <p>The view retries every second.</p>
      </main>
    );
  }
  if (view === undefined) return <main className="witness"><p>Connecting…</p></main>;
  if (view === null || dismissed === view.ceremonyId) {
    return (
      <main className="witness">
        <h1>Witness view</h1>
        <p className="say">No ceremony is running. This screen follows the next one when it starts.</p>
      </main>
    );
  }
  const done = view.steps.filter((s) => s.status === 'done').length;
  const cur = view.current;
  const pending = cur ? Object.entries(cur.remaining).filter(([, n]) => n > 0) : [];
  return (
    <main className={`witness${view.sealed ? ' witness-sealed' : ''}`}>
      {view.demo && <p className="demo-banner">DEMO — rehearsal on the demo token: nothing made here is a real key</p>}
      <p className="ceremony-title">{view.title}</p>
      <progress value={done} max={view.steps.length} aria-label="Ceremony progress" />
      {view.sealed && (
        <>
          <h1>Ceremony sealed</h1>
          <p>Read the final hash aloud, in words, and compare it with the printed transcript before signing it.</p>
          <HashDisplay label="Final transcript hash" hex={view.sealed.finalHash} words={view.sealed.finalHashWords} className="final-hash witness-hash" />
          {view.sealed.keyFingerprintWords.length > 0 && (
            <figure className="hash-display witness-hash">
              <figcaption>Transcript key fingerprint (words)</figcaption>
              <ol className="hash-words">
                {view.sealed.keyFingerprintWords.map((w, i) => (
                  <li key={i}>{w}</li>
                ))}
              </ol>
            </figure>
          )}
          <div className="actions">
            <button type="button" className="secondary" onClick={() => setDismissed(view.ceremonyId)}>
              Dismiss (the room has compared the hash)
            </button>
          </div>
        </>
      )}
      {cur && (
        <>
          <p className="step-count">
            Step {cur.index + 1} of {view.steps.length}
          </p>
          <h1>{cur.title}</h1>
          {cur.custodian && (
            <p className="privacy-note now-up">
              Now: share {cur.custodian.shareIndex} of {cur.custodian.of} for <strong>{cur.custodian.name}</strong>
              {cur.custodian.sealed
                ? ' — sealed to their OpenPGP key: it is never on screen, nobody needs to look away.'
                : cur.custodian.phase === 'privacy'
                  ? ' — everyone else looks away.'
                  : ' — only they look at the operator\'s screen.'}
            </p>
          )}
          {cur.needKind === 'pin' && <p className="privacy-note">PIN entry in progress.</p>}
          {cur.needKind === 'openpgpConfirm' && <p className="now-up">A custodian reads their OpenPGP key fingerprint aloud: follow the words below.</p>}
          {view.fingerprints.map((f) => (
            <HashDisplay key={f.label} label={f.label} hex={f.value} words={f.words} className="witness-hash" />
          ))}
          <blockquote className="say">{cur.say}</blockquote>
          {(pending.length > 0 || cur.signed.length > 0) && (
            <section className="witness-signoffs" aria-label="Sign-offs">
              {pending.length > 0 && <p className="pending">Still to sign: {pending.map(([role, n]) => `${n} × ${role}`).join(', ')}</p>}
              {cur.signed.length > 0 && (
                <ul className="signed">
                  {cur.signed.map((s) => (
                    <li key={`${s.personId}:${s.role}`}>✔ {s.name} ({s.role})</li>
                  ))}
                </ul>
              )}
            </section>
          )}
          <p className="chain-head">
            Transcript event {view.chainHead.seq} · <code>{view.chainHead.hash.slice(0, 16)}…</code>
          </p>
        </>
      )}
    </main>
  );
}
