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
  if (view === null) {
    return (
      <main className="witness">
        <h1>Witness view</h1>
        <p className="say">No ceremony is running. This screen follows the next one when it starts.</p>
      </main>
    );
  }
  const done = view.steps.filter((s) => s.status === 'done').length;
  return (
    <main className="witness">
      <p className="ceremony-title">
        {view.title} {view.demo && <span className="badge demo">Rehearsal</span>}
      </p>
      <progress value={done} max={view.steps.length} aria-label="Ceremony progress" />
      {view.current && (
        <>
          <p className="step-count">
            Step {view.current.index + 1} of {view.steps.length}
          </p>
          <h1>{view.current.title}</h1>
          <blockquote className="say">{view.current.say}</blockquote>
          {view.current.needKind === 'shareHandout' && <p className="privacy-note">Share hand-out in progress: look away from the operator's screen.</p>}
          {view.current.needKind === 'pin' && <p className="privacy-note">PIN entry in progress.</p>}
          {view.current.signed.length > 0 && (
            <ul className="signed">
              {view.current.signed.map((s) => (
                <li key={`${s.personId}:${s.role}`}>✔ {s.name} ({s.role})</li>
              ))}
            </ul>
          )}
        </>
      )}
      {view.fingerprints.map((f) => (
        <p key={f.label} className="fingerprint-line">
          {f.label}: <code>{f.value}</code>
        </p>
      ))}
      {view.sealed ? (
        <HashDisplay label="Final transcript hash" hex={view.sealed.finalHash} words={view.sealed.finalHashWords} className="final-hash" />
      ) : (
        <p className="chain-head">
          Transcript event {view.chainHead.seq} · <code>{view.chainHead.hash.slice(0, 16)}…</code>
        </p>
      )}
    </main>
  );
}
