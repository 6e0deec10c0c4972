import { call, keyrite } from '../app/api';
import { useLoad } from '../app/hooks';
import { ErrorPanel } from '../components/ErrorPanel';
import { Loading } from '../components/Loading';
import { ScreenHeading } from '../components/ScreenHeading';

/** The key inventory: every key Keyrite made or restored, with weak and overdue keys flagged. */
export function Inventory(): React.JSX.Element {
  const keys = useLoad(() => call(keyrite().inventory.list()));
  return (
    <div className="inventory">
      <ScreenHeading>Key inventory</ScreenHeading>
      {keys.error && <ErrorPanel error={keys.error} onRetry={keys.reload} />}
      {!keys.data && !keys.error && <Loading what="the inventory" />}
      {keys.data && keys.data.length === 0 && <p className="empty">No keys yet. Keys appear here when a ceremony generates or restores them.</p>}
      {keys.data && keys.data.length > 0 && (
        <table className="keys">
          <thead>
            <tr>
              <th scope="col">Id</th>
              <th scope="col">Algorithm</th>
              <th scope="col">Purpose</th>
              <th scope="col">Status</th>
              <th scope="col">Created</th>
              <th scope="col">Rotation due</th>
              <th scope="col">Backups</th>
              <th scope="col">Fingerprint (SPKI SHA-256)</th>
              <th scope="col">Flags</th>
            </tr>
          </thead>
          <tbody>
            {keys.data.map((k) => (
              <tr key={k.id} className={k.flags.weak || k.flags.overdue ? 'flagged' : undefined}>
                <td>
                  <code>{k.id}</code>
                </td>
                <td>
                  {k.algorithm.toUpperCase()} {k.curve ?? k.size}
                </td>
                <td>{k.purpose}</td>
                <td>
                  <span className={`badge ${k.status}`}>{k.status}</span>
                </td>
                <td>{k.createdAt.slice(0, 10)}</td>
                <td>{k.rotationDue?.slice(0, 10) ?? '—'}</td>
                <td>{k.backups}</td>
                <td>
                  <code className="fingerprint">{k.fingerprint}</code>
                </td>
                <td>{k.flags.reasons.length > 0 ? k.flags.reasons.join('; ') : 'OK'}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </div>
  );
}
