import { call, keyrite } from '../app/api';
import { BUILTIN_CEREMONIES } from '../app/builtin-ceremonies';
import { useLoad } from '../app/hooks';
import { useNavigate } from '../app/nav';
import { ErrorPanel } from '../components/ErrorPanel';
import { PrintAction } from '../components/PrintButton';
import { Loading } from '../components/Loading';
import { ScreenHeading } from '../components/ScreenHeading';

/**
 * Print a script before the ceremony: every step and sign-off with a checkbox, time and initials,
 * headed by the script's id, version and SHA-256 (printed by main, from the built-in script).
 */
function PrintScript({ id, title }: { id: string; title: string }): React.JSX.Element {
  return (
    <PrintAction
      label="Print script"
      ariaLabel={`Print the script of ${title}`}
      print={() => call(keyrite().ceremony.printScript({ script: id }))}
      sentNote={(r) => (
        <p className="saved print-sent" role="status">
          Sent to the printer: script {id}, SHA-256 <code>{r.sha256.slice(0, 16)}…</code>
        </p>
      )}
      failedTitle="The script was not printed"
    />
  );
}

/**
 * A blank share card (33 numbered boxes, 3 columns of 11, read top to bottom like the share on
 * screen) for custodians to copy their share onto by hand; it holds nothing secret.
 */
function PrintBlankCard(): React.JSX.Element {
  return (
    <p className="blank-card">
      <PrintAction
        label="Print a blank share card"
        print={() => call(keyrite().share.printBlankCard())}
        sentNote={() => (
          <span className="saved print-sent blank-card-sent" role="status">
            {' '}
            Sent to the printer: one blank share card. Print one per custodian.
          </span>
        )}
        failedTitle="The blank share card was not printed"
      />
    </p>
  );
}

/** Home: the ceremonies on offer, the one to resume, and the bundles made here. */
export function Home(): React.JSX.Element {
  const navigate = useNavigate();
  const scripts = useLoad(() => call(keyrite().ceremony.scripts()));
  const ceremonies = useLoad(() => call(keyrite().ceremony.list()));
  // The ceremony a new installation starts with comes first; the rest in the order they are used.
  // Until the main process answers, the built-in scripts the app was built with are offered.
  const ordered = [...(scripts.data ?? BUILTIN_CEREMONIES)].sort((a, b) => rank(a.id) - rank(b.id) || a.title.localeCompare(b.title));
  const running = (ceremonies.data ?? []).filter((c) => c.status === 'running');
  const recent = (ceremonies.data ?? []).filter((c) => c.status !== 'running').slice(0, 8);

  return (
    <div className="home">
      <ScreenHeading>Key ceremonies</ScreenHeading>

      {running.length > 0 && (
        <section className="resume" aria-labelledby="resume-title">
          <h2 id="resume-title">In progress</h2>
          <ul className="cards">
            {running.map((c) => (
              <li key={c.id} className="card resume-card">
                <h3>{c.title}</h3>
                <p>
                  Stopped at step {c.currentStep + 1} of {c.stepCount}
                  {c.currentStepTitle ? `: ${c.currentStepTitle}` : ''}. Last activity {formatTime(c.updatedAt)}.
                </p>
                <button type="button" onClick={() => navigate({ screen: 'ceremony', id: c.id })}>
                  Resume {c.title}
                </button>
              </li>
            ))}
          </ul>
        </section>
      )}

      <section aria-labelledby="scripts-title">
        <h2 id="scripts-title">Start a ceremony</h2>
        {scripts.error && <ErrorPanel error={scripts.error} onRetry={scripts.reload} noHome title="The ceremony scripts could not be loaded" />}
        {scripts.loading && !scripts.data && BUILTIN_CEREMONIES.length === 0 && <Loading what="ceremony scripts" />}
        <ul className="cards">
          {ordered.map((s) => (
            <li key={s.id} className="card">
              <h3>{s.title}</h3>
              <p>{s.description}</p>
              <p className="meta">
                {s.id} · version {s.version}
              </p>
              <button type="button" onClick={() => navigate({ screen: 'start', script: s.id })}>
                Start {s.title}
              </button>
              <PrintScript id={s.id} title={s.title} />
            </li>
          ))}
        </ul>
        <PrintBlankCard />
      </section>

      <section aria-labelledby="recent-title">
        <h2 id="recent-title">Recent ceremonies</h2>
        {ceremonies.error && <ErrorPanel error={ceremonies.error} onRetry={ceremonies.reload} noHome title="The ceremony list could not be loaded" />}
        {recent.length === 0 && !ceremonies.error && <p className="empty">No finished ceremonies yet.</p>}
        {recent.length > 0 && (
          <table className="recent">
            <thead>
              <tr>
                <th scope="col">Ceremony</th>
                <th scope="col">Status</th>
                <th scope="col">Finished</th>
                <th scope="col">Bundle</th>
                <th scope="col">
                  <span className="visually-hidden">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {recent.map((c) => (
                <tr key={c.id}>
                  <td>{c.title}</td>
                  <td>
                    <span className={`badge ${c.status}`}>{c.status}</span>
                  </td>
                  <td>{formatTime(c.updatedAt)}</td>
                  <td>
                    <code className="path">{c.outDir}</code>
                  </td>
                  <td className="row-actions">
                    <button type="button" className="secondary small" onClick={() => navigate({ screen: 'ceremony', id: c.id })}>
                      Open
                    </button>
                    {c.status === 'sealed' && (
                      <button type="button" className="secondary small" onClick={() => navigate({ screen: 'verify', dir: c.outDir })}>
                        Verify
                      </button>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </section>
    </div>
  );
}

const ORDER = ['root-key-generation', 'backup-recovery-drill', 'key-rotation', 'share-rotation', 'key-destruction'];
function rank(id: string): number {
  const i = ORDER.indexOf(id);
  return i < 0 ? ORDER.length : i;
}

export function formatTime(iso: string): string {
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : d.toISOString().replace('T', ' ').slice(0, 16) + ' UTC';
}
