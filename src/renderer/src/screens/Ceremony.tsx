import { useCallback, useEffect, useRef, useState } from 'react';
import { call, keyrite } from '../app/api';
import { useAction, useAutoFocus, useLoad } from '../app/hooks';
import { submitOnCtrlEnter } from '../app/keys';
import { useNavigate } from '../app/nav';
import { ErrorPanel } from '../components/ErrorPanel';
import { HashDisplay } from '../components/HashDisplay';
import { PrintButton } from '../components/PrintButton';
import { Loading } from '../components/Loading';
import { ScreenHeading } from '../components/ScreenHeading';
import { NeedPanel } from '../steps/NeedPanel';
import type { CeremonyViewData, StepInputData } from '../../../shared/ipc-contract';

/** The step runner: where the ceremony is, what to read aloud, and what the step needs now. */
export function Ceremony({ id }: { id: string }): React.JSX.Element {
  const loaded = useLoad(() => call(keyrite().ceremony.view({ id })), [id]);
  const [view, setView] = useState<CeremonyViewData | undefined>();
  useEffect(() => setView(loaded.data), [loaded.data]);
  const action = useAction();
  const provide = useCallback(
    (input: StepInputData) =>
      action.run(async () => {
        setView(await call(keyrite().ceremony.provide({ id, input })));
      }),
    [action, id],
  );
  const runView = useCallback(
    (fn: () => Promise<CeremonyViewData | null>) =>
      action.run(async () => {
        const next = await fn();
        if (next) setView(next);
      }),
    [action],
  );

  if (loaded.error) return <ErrorPanel error={loaded.error} onRetry={loaded.reload} title="The ceremony could not be opened" />;
  if (!view) return <Loading what="the ceremony" />;
  return <Runner view={view} busy={action.busy} provide={provide} runView={runView} actionError={action.error} clearError={action.clear} onView={setView} />;
}

interface RunnerProps {
  view: CeremonyViewData;
  busy: boolean;
  provide: (input: StepInputData) => Promise<void>;
  runView: (fn: () => Promise<CeremonyViewData | null>) => Promise<void>;
  actionError: ReturnType<typeof useAction>['error'];
  clearError: () => void;
  onView: (v: CeremonyViewData) => void;
}

function Runner({ view, busy, provide, runView, actionError, clearError, onView }: RunnerProps): React.JSX.Element {
  const navigate = useNavigate();
  const [aborting, setAborting] = useState(false);
  const done = view.steps.filter((s) => s.status === 'done').length;
  const cur = view.current;
  const finished = view.status !== 'running' || !cur || cur.need.kind === 'done';

  // A compact fingerprint of where the ceremony stands, so a test (or an observer) can tell that
  // an input was taken: step, need, hand-out phase (or whose PIN), transcript length, last problem.
  const need = cur?.need;
  const state = [
    view.status,
    cur?.index ?? '',
    need?.kind ?? '',
    need?.kind === 'shareHandout' ? `${need.shareIndex}.${need.phase}` : need?.kind === 'signoff' ? need.signed.length : need?.kind === 'shareEntry' ? need.accepted.length : need?.kind === 'pin' ? need.user : need?.kind === 'openpgpConfirm' ? need.custodian.id : '',
    view.chainHead.seq,
    view.lastError?.code ?? '',
  ].join('|');

  return (
    <div className="runner" data-state={state} data-busy={busy ? 'yes' : 'no'}>
      <aside className="step-list" aria-label="Ceremony steps">
        <p className="progress-label">
          {done} of {view.steps.length} steps done
        </p>
        <progress value={done} max={view.steps.length} aria-label="Ceremony progress" />
        <ol>
          {view.steps.map((s) => (
            <li key={s.index} className={`step-${s.status}${cur?.index === s.index ? ' current' : ''}`} aria-current={cur?.index === s.index ? 'step' : undefined}>
              <span className="step-mark" aria-hidden="true">
                {s.status === 'done' ? '✔' : s.status === 'aborted' ? '✖' : cur?.index === s.index ? '▶' : '○'}
              </span>
              <span className="step-title">{s.title}</span>
              <span className="visually-hidden">{s.status === 'done' ? ' (done)' : s.status === 'aborted' ? ' (aborted, not done)' : cur?.index === s.index ? ' (current)' : ''}</span>
            </li>
          ))}
        </ol>
        <div className="chain-head">
          <span>Transcript</span> event {view.chainHead.seq} · <code>{view.chainHead.hash.slice(0, 16)}…</code>
        </div>
      </aside>

      <section className="step-main">
        <p className="ceremony-title">
          {view.title}
          {view.demo && <span className="badge demo">Rehearsal on the demo token</span>}
          {view.status === 'aborted' && <span className="badge aborted">Aborted</span>}
        </p>
        {finished ? (
          <Finished view={view} />
        ) : (
          <>
            <p className="step-count">
              Step {cur.index + 1} of {view.steps.length}
            </p>
            <ScreenHeading focusKey={`${cur.index}`}>{cur.title}</ScreenHeading>
            <section className="read-aloud" aria-label="Read aloud">
              <p className="read-aloud-label">Read aloud</p>
              <blockquote className="say">{cur.say}</blockquote>
            </section>
            {Object.keys(cur.confirm).length > 0 && (
              <p className="who-confirms">
                Must confirm: {Object.entries(cur.confirm).map(([role, n]) => `${n} × ${role}`).join(', ')}
              </p>
            )}
            {view.lastError && (
              <div className="step-error" role="alert" data-code={view.lastError.code}>
                <p className="error-message">{view.lastError.message}</p>
                <p className="error-code">
                  Error code <code>{view.lastError.code}</code>
                </p>
              </div>
            )}
            {actionError && (
              <div className="step-error" role="alert" data-code={actionError.code}>
                <p className="error-message">{actionError.message}</p>
                <p className="error-code">
                  Error code <code>{actionError.code}</code>
                </p>
                <button type="button" className="secondary small" onClick={clearError}>
                  Dismiss and retry
                </button>
              </div>
            )}
            <NeedPanel need={cur.need} view={view} busy={busy} provide={provide} runView={runView} />
            {cur.evidence && Object.keys(cur.evidence).length > 0 && <Evidence evidence={cur.evidence} />}
          </>
        )}
        <div className="runner-tools actions">
          <button type="button" className="secondary" onClick={() => navigate({ screen: 'transcript', id: view.ceremonyId })}>
            Transcript
          </button>
          <WitnessButton />
          {view.status === 'running' && (
            <button type="button" className="danger" onClick={() => setAborting(true)}>
              Abort the ceremony…
            </button>
          )}
        </div>
        {aborting && <AbortDialog view={view} onClose={() => setAborting(false)} onView={onView} />}
      </section>
    </div>
  );
}

function Evidence({ evidence }: { evidence: Record<string, unknown> }): React.JSX.Element {
  return (
    <details className="evidence" open>
      <summary>Evidence recorded for this step</summary>
      <dl>
        {Object.entries(evidence).map(([k, v]) => (
          <div key={k}>
            <dt>{k}</dt>
            <dd>{evidenceValue(v)}</dd>
          </div>
        ))}
      </dl>
    </details>
  );
}

function evidenceValue(v: unknown): React.JSX.Element {
  if (Array.isArray(v) && v.every((x) => typeof x === 'string' || typeof x === 'number')) {
    return (
      <ul className="evidence-list">
        {v.map((x, i) => (
          <li key={i}>{String(x)}</li>
        ))}
      </ul>
    );
  }
  return <code>{typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean' ? String(v) : JSON.stringify(v)}</code>;
}

function Finished({ view }: { view: CeremonyViewData }): React.JSX.Element {
  const navigate = useNavigate();
  const verifyRef = useAutoFocus<HTMLButtonElement>();
  if (view.status === 'aborted') {
    return (
      <section className="finished">
        <ScreenHeading>Ceremony aborted</ScreenHeading>
        <p>The abort is recorded in the transcript with its reason. Nothing more happens in this ceremony; start a new one from the home screen.</p>
        <div className="actions">
          <button ref={verifyRef} type="button" onClick={() => navigate({ screen: 'home' })}>
            Back to home
          </button>
        </div>
      </section>
    );
  }
  const sealed = view.sealed;
  return (
    <section className="finished sealed">
      <ScreenHeading>Ceremony sealed</ScreenHeading>
      {sealed ? (
        <>
          <p>Witnesses: read the final hash aloud, in words, and write it on the printed transcript next to your signature.</p>
          <HashDisplay label="Final transcript hash" hex={sealed.finalHash} words={sealed.finalHashWords} className="final-hash" />
          {sealed.keyFingerprintWords.length > 0 && (
            <figure className="hash-display">
              <figcaption>Transcript key fingerprint (words)</figcaption>
              <ol className="hash-words">
                {sealed.keyFingerprintWords.map((w, i) => (
                  <li key={i}>{w}</li>
                ))}
              </ol>
            </figure>
          )}
          <p>
            Bundle folder: <code className="path">{sealed.bundle}</code>
          </p>
          <p>Print the transcript for the witnesses' signatures. Copy the whole folder to the removable media.</p>
          <div className="actions">
            <button ref={verifyRef} type="button" onClick={() => navigate({ screen: 'verify', dir: sealed.bundle })}>
              Verify this bundle
            </button>
            <PrintButton dir={sealed.bundle} />
            <button type="button" className="secondary" onClick={() => navigate({ screen: 'home' })}>
              Back to home
            </button>
          </div>
        </>
      ) : (
        <p>The ceremony has finished.</p>
      )}
    </section>
  );
}

function WitnessButton(): React.JSX.Element | null {
  const action = useAction();
  const info = useLoad(() => call(keyrite().app.info()), []);
  if (!info.data?.witnessAvailable) return null;
  return (
    <>
      <button type="button" className="secondary" onClick={() => void action.run(async () => void (await call(keyrite().app.openWitness())))}>
        Open witness window
      </button>
      {action.error && (
        <span className="inline-error" role="alert">
          {action.error.message}
        </span>
      )}
    </>
  );
}

function AbortDialog({ view, onClose, onView }: { view: CeremonyViewData; onClose: () => void; onView: (v: CeremonyViewData) => void }): React.JSX.Element {
  const [reason, setReason] = useState('');
  const [personId, setPersonId] = useState((view.participants.find((p) => p.roles.includes('admin')) ?? view.participants[0])?.id ?? '');
  const action = useAction();
  const ref = useRef<HTMLTextAreaElement>(null);
  const dialog = useRef<HTMLDialogElement>(null);
  // Taken while rendering, before any effect moves focus: the button that opened the dialog.
  const [opener] = useState(() => document.activeElement);
  useEffect(() => {
    // A modal <dialog>: Tab stays inside it (the page behind is inert) and Escape works wherever
    // focus is in it; a plain overlay let Tab walk out to controls hidden under the shade, where
    // Escape no longer reached it. Focus goes back to the opener when it closes, however it closes.
    dialog.current?.showModal();
    ref.current?.focus();
    return () => {
      if (opener instanceof HTMLElement && opener.isConnected) opener.focus();
    };
  }, [opener]);
  return (
    <dialog
      ref={dialog}
      className="dialog"
      aria-labelledby="abort-title"
      onCancel={(e) => {
        e.preventDefault();
        onClose();
      }}
    >
      <form
        onSubmit={(e) => {
          e.preventDefault();
          void action.run(async () => {
            onView(await call(keyrite().ceremony.abort({ id: view.ceremonyId, reason, personId })));
            onClose();
          });
        }}
      >
        <h2 id="abort-title">Abort this ceremony?</h2>
        <p>Aborting is final and is recorded in the transcript with the reason and who decided. Keys already generated stay on the token.</p>
        <div className="field">
          <label htmlFor="abort-reason">Reason</label>
          <textarea id="abort-reason" ref={ref} rows={3} value={reason} onChange={(e) => setReason(e.target.value)} onKeyDown={submitOnCtrlEnter} />
        </div>
        <div className="field">
          <label htmlFor="abort-person">Decided by</label>
          {view.participants.length > 0 ? (
            <select id="abort-person" value={personId} onChange={(e) => setPersonId(e.target.value)}>
              {view.participants.map((p) => (
                <option key={p.id} value={p.id}>
                  {p.name}
                </option>
              ))}
            </select>
          ) : (
            <input id="abort-person" value={personId} onChange={(e) => setPersonId(e.target.value)} placeholder="e.g. admin" />
          )}
        </div>
        {action.error && <ErrorPanel error={action.error} noHome title="The ceremony was not aborted" />}
        <div className="actions">
          <button type="submit" className="danger" disabled={action.busy || !reason.trim() || !personId}>
            Abort the ceremony
          </button>
          <button type="button" className="secondary" onClick={onClose}>
            Keep going
          </button>
        </div>
      </form>
    </dialog>
  );
}
