import { useEffect, useState } from 'react';
import type { ChannelOutput } from '../../../shared/ipc-contract';
import { ApiError, call, keyrite } from '../app/api';
import { useAction, useLoad } from '../app/hooks';
import { ErrorPanel } from '../components/ErrorPanel';
import { Loading } from '../components/Loading';
import { ScreenHeading } from '../components/ScreenHeading';

type ModuleTest = ChannelOutput<'settings:testModule'>;

/** What a module test found: the library, and the tokens it reaches (an empty label: not initialised). */
function ModuleTokens({ test }: { test: ModuleTest }): React.JSX.Element {
  return (
    <section className="module-test" role="status" aria-label="Module test">
      <p>
        <strong>Loaded:</strong> {test.description || test.modulePath} ({test.manufacturer}), Cryptoki {test.cryptokiVersion}, library {test.libraryVersion}.
      </p>
      {test.tokenError ? (
        <p className="warn-box">The module loaded but could not list its tokens: {test.tokenError}</p>
      ) : test.tokens.length === 0 ? (
        <p className="warn-box">The module loaded, but no token is present. Insert or initialise the token, then test again.</p>
      ) : (
        <table className="module-tokens">
          <thead>
            <tr>
              <th scope="col">Token label</th>
              <th scope="col">Serial</th>
              <th scope="col">Model</th>
              <th scope="col">Manufacturer</th>
            </tr>
          </thead>
          <tbody>
            {test.tokens.map((t, i) => (
              <tr key={`${t.serial}-${i}`}>
                <td>{t.label || <em>(not initialised)</em>}</td>
                <td>
                  <code>{t.serial}</code>
                </td>
                <td>{t.model}</td>
                <td>{t.manufacturer}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}

/** PKCS#11 module, token and output folder. Empty fields fall back to the demo token and defaults. */
export function Settings(): React.JSX.Element {
  const loaded = useLoad(() => call(keyrite().settings.get()));
  const [form, setForm] = useState({ modulePath: '', tokenLabel: '', tokenUri: '', moduleArgs: '', outputFolder: '' });
  const [saved, setSaved] = useState(false);
  // The last module test: what the library said about itself and the tokens it reaches.
  const [tested, setTested] = useState<ModuleTest | null>(null);
  const [testError, setTestError] = useState<ApiError | null>(null);
  const [current, setCurrent] = useState(loaded.data);
  const action = useAction();
  useEffect(() => {
    if (!loaded.data) return;
    setCurrent(loaded.data);
    setForm({ modulePath: loaded.data.modulePath ?? '', tokenLabel: loaded.data.tokenLabel ?? '', tokenUri: loaded.data.tokenUri ?? '', moduleArgs: loaded.data.moduleArgs ?? '', outputFolder: loaded.data.outputFolder ?? '' });
  }, [loaded.data]);

  if (loaded.error) return <ErrorPanel error={loaded.error} onRetry={loaded.reload} />;
  if (!current) return <Loading what="settings" />;

  return (
    <form
      className="settings"
      onSubmit={(e) => {
        e.preventDefault();
        setSaved(false);
        void action.run(async () => {
          // A module is loaded and its tokens listed before it is saved (main loads it again to save).
          if (form.modulePath.trim()) setTested(await call(keyrite().settings.testModule({ modulePath: form.modulePath.trim() })));
          const next = await call(keyrite().settings.set({ modulePath: form.modulePath, tokenLabel: form.tokenLabel, tokenUri: form.tokenUri, moduleArgs: form.moduleArgs, outputFolder: form.outputFolder }));
          setCurrent(next);
          setSaved(true);
        });
      }}
    >
      <ScreenHeading>Settings</ScreenHeading>
      {current.overriddenBy.length > 0 && (
        <p className="warn-box">
          {current.overriddenBy.join(' and ')} {current.overriddenBy.length === 1 ? 'is' : 'are'} set in the environment and {current.overriddenBy.length === 1 ? 'overrides' : 'override'} the saved value.
        </p>
      )}
      <div className="field">
        <label htmlFor="module-path">PKCS#11 module</label>
        <input id="module-path" autoFocus value={form.modulePath} spellCheck={false} placeholder="/usr/lib/vendor/libpkcs11.so (empty: embedded demo token)" onChange={(e) => setForm({ ...form, modulePath: e.target.value })} />
        <button
          type="button"
          disabled={action.busy}
          onClick={() =>
            void action.run(async () => {
              // The file dialog is main's: only a library picked there (or a known install location) is accepted.
              const picked = await call(keyrite().settings.pickModule());
              if (picked.path) setForm((f) => ({ ...f, modulePath: picked.path ?? '' }));
            })
          }
        >
          Choose module file…
        </button>
        <button
          type="button"
          className="secondary"
          disabled={action.busy || !form.modulePath.trim()}
          onClick={() => {
            setTested(null);
            setTestError(null);
            void call(keyrite().settings.testModule({ modulePath: form.modulePath.trim() })).then(setTested, (e: unknown) => setTestError(e instanceof ApiError ? e : new ApiError({ code: 'APP_BRIDGE_FAILED', message: String(e) })));
          }}
        >
          Test module
        </button>
        <p className="hint">Your HSM vendor's PKCS#11 library: a known install location, or chosen with the button. It is test-loaded before it is saved. In use: {current.effective.modulePath ?? 'none'}</p>
      </div>
      {testError && <ErrorPanel error={testError} noHome title="The module did not load" />}
      {tested && <ModuleTokens test={tested} />}
      <div className="field">
        <label htmlFor="token-label">Token label</label>
        <input id="token-label" value={form.tokenLabel} spellCheck={false} placeholder="keyrite-demo" onChange={(e) => setForm({ ...form, tokenLabel: e.target.value })} />
        <p className="hint">
          The label of the token to use. In use: {current.effective.tokenLabel ?? 'none'}
          {current.effective.demo ? ' (embedded demo token)' : ''}
        </p>
      </div>
      <div className="field">
        <label htmlFor="token-uri">Token URI</label>
        <input id="token-uri" value={form.tokenUri} spellCheck={false} placeholder="pkcs11:token=root-ca;serial=4a1b2c3d?module-path=/usr/lib/vendor/libpkcs11.so" onChange={(e) => setForm({ ...form, tokenUri: e.target.value })} />
        <p className="hint">Optional: a PKCS#11 URI (RFC 7512) naming the token by label, serial or model, and its module. It wins over the module and label above. `keyrite hsm info` prints each token's URI.</p>
      </div>
      <div className="field">
        <label htmlFor="module-args">Module arguments</label>
        <input id="module-args" value={form.moduleArgs} spellCheck={false} placeholder="configdir='sql:/srv/nssdb' certPrefix='' keyPrefix='' secmod='secmod.db' flags=" onChange={(e) => setForm({ ...form, moduleArgs: e.target.value })} />
        <p className="hint">Only for modules that need initialisation arguments (NSS softokn). Empty for most HSMs.</p>
      </div>
      <div className="field">
        <label htmlFor="output-folder">Output folder</label>
        <input id="output-folder" value={form.outputFolder} spellCheck={false} placeholder={current.effective.outputFolder} onChange={(e) => setForm({ ...form, outputFolder: e.target.value })} />
        <p className="hint">Where new ceremony bundles are written (usually the removable medium). In use: {current.effective.outputFolder}</p>
      </div>
      {action.error && <ErrorPanel error={action.error} noHome title="The settings were not saved" />}
      {saved && (
        <p className="saved" role="status">
          Settings saved.
        </p>
      )}
      <div className="actions">
        <button type="submit" disabled={action.busy}>
          Save settings
        </button>
      </div>
    </form>
  );
}
