import { call, keyrite } from '../app/api';
import { useLoad } from '../app/hooks';
import { useNavigate } from '../app/nav';
import { ErrorPanel } from '../components/ErrorPanel';
import { Loading } from '../components/Loading';
import { ScreenHeading } from '../components/ScreenHeading';

/** The HSM as Keyrite sees it: module, tokens, and the mechanisms a ceremony needs (preflight). */
export function HsmInfo(): React.JSX.Element {
  const navigate = useNavigate();
  const hsm = useLoad(() => call(keyrite().hsm.info()));
  return (
    <div className="hsm">
      <ScreenHeading>HSM</ScreenHeading>
      {hsm.error && (
        <>
          <ErrorPanel error={hsm.error} onRetry={hsm.reload} title="Keyrite cannot use the HSM" />
          <div className="actions">
            <button type="button" className="secondary" onClick={() => navigate({ screen: 'settings' })}>
              Open settings
            </button>
          </div>
        </>
      )}
      {!hsm.data && !hsm.error && <Loading what="the HSM" />}
      {hsm.data && (
        <>
          <dl className="facts">
            <div>
              <dt>Module</dt>
              <dd>
                <code className="path">{hsm.data.module.path}</code>
              </dd>
            </div>
            <div>
              <dt>Library</dt>
              <dd>
                {hsm.data.module.manufacturer} — {hsm.data.module.description} (library {hsm.data.module.libraryVersion}, Cryptoki {hsm.data.module.cryptokiVersion})
              </dd>
            </div>
            <div>
              <dt>Selected token</dt>
              <dd>
                the token {hsm.data.selectedBy}
                {hsm.data.demo && <span className="badge demo">embedded demo token</span>}
              </dd>
            </div>
          </dl>
          {hsm.data.tokens
            .filter((t) => t.present)
            .map((t) => {
              const missing = t.mechanisms.filter((m) => m.required && !m.supported);
              return (
                <section key={t.slotId} className={`token card${t.selected ? ' selected' : ''}`} aria-label={`Token ${t.label}`}>
                  <h2>
                    Token “{t.label}” {t.selected && <span className="badge">selected</span>}
                  </h2>
                  <p className="meta">
                    Slot {t.slotId} · serial {t.serial} · {t.manufacturer} {t.model} · firmware {t.firmware}
                  </p>
                  <p className="meta uri">{t.uri}</p>
                  <p className={missing.length > 0 ? 'preflight-fail' : 'preflight-ok'}>
                    {missing.length > 0 ? `Missing mechanisms Keyrite needs: ${missing.map((m) => m.name).join(', ')}. Use another token or module.` : 'Preflight: every mechanism Keyrite needs is supported.'}
                  </p>
                  {(t.flags.userPinLocked || t.flags.userPinFinalTry || t.flags.userPinCountLow) && (
                    <p className="preflight-fail">
                      {t.flags.userPinLocked ? 'The user PIN is locked: the Security Officer must unlock it.' : t.flags.userPinFinalTry ? 'One user PIN attempt is left before it locks.' : 'Few user PIN attempts are left.'}
                    </p>
                  )}
                  <table className="mechanisms">
                    <thead>
                      <tr>
                        <th scope="col">Supported</th>
                        <th scope="col">Mechanism</th>
                        <th scope="col">Used for</th>
                        <th scope="col">Key sizes</th>
                      </tr>
                    </thead>
                    <tbody>
                      {t.mechanisms.map((m) => (
                        <tr key={m.name} className={m.supported ? 'yes' : m.required ? 'missing' : 'no'}>
                          <td>{m.supported ? '✔ yes' : m.required ? '✘ NO (required)' : '— no'}</td>
                          <td>
                            <code>{m.name}</code>
                          </td>
                          <td>{m.purpose}</td>
                          <td>{m.supported && m.maxKeySize ? `${m.minKeySize}–${m.maxKeySize}` : ''}</td>
                        </tr>
                      ))}
                    </tbody>
                  </table>
                </section>
              );
            })}
          {hsm.data.tokens.every((t) => !t.present) && <p className="preflight-fail">No token is present in any slot. Insert the HSM token and press Refresh.</p>}
          <div className="actions">
            <button type="button" className="secondary" onClick={hsm.reload}>
              Refresh
            </button>
          </div>
        </>
      )}
    </div>
  );
}
