import { useEffect } from 'react';
import { call, keyrite } from '../app/api';
import { useLoad } from '../app/hooks';
import { useNavigate } from '../app/nav';
import { ErrorPanel } from '../components/ErrorPanel';
import { HashDisplay } from '../components/HashDisplay';
import { Loading } from '../components/Loading';
import { ScreenHeading } from '../components/ScreenHeading';

/** Every transcript event so far, each with its hash, and the chain head to read aloud. */
export function Transcript({ id }: { id: string }): React.JSX.Element {
  const navigate = useNavigate();
  const t = useLoad(() => call(keyrite().ceremony.events({ id })), [id]);
  // Live: new events appear while the ceremony runs elsewhere (the witness window, a second operator).
  const reload = t.reload;
  useEffect(() => {
    const timer = setInterval(reload, 3000);
    return () => clearInterval(timer);
  }, [reload]);
  return (
    <div className="transcript">
      <ScreenHeading>Transcript</ScreenHeading>
      <div className="actions">
        <button type="button" onClick={() => navigate({ screen: 'ceremony', id })}>
          Back to the ceremony
        </button>
        <button type="button" className="secondary" onClick={t.reload}>
          Refresh
        </button>
      </div>
      {t.error && <ErrorPanel error={t.error} onRetry={t.reload} />}
      {!t.data && !t.error && <Loading what="the transcript" />}
      {t.data && (
        <>
          <HashDisplay label={`Chain head (event ${t.data.chainHead.seq})`} hex={t.data.chainHead.hash} />
          <table className="events">
            <thead>
              <tr>
                <th scope="col">#</th>
                <th scope="col">Time (UTC)</th>
                <th scope="col">Event</th>
                <th scope="col">Details</th>
                <th scope="col">Hash</th>
              </tr>
            </thead>
            <tbody>
              {t.data.events.map((e) => (
                <tr key={e.seq}>
                  <td>{e.seq}</td>
                  <td>{e.at ? e.at.slice(11, 19) : ''}</td>
                  <td>
                    <code>{e.type}</code>
                  </td>
                  <td className="summary">{e.summary}</td>
                  <td>
                    <code>{e.hash.slice(0, 12)}…</code>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </>
      )}
    </div>
  );
}
