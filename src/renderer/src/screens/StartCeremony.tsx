import { useEffect, useRef, useState } from 'react';
import type { ParameterFormData } from '../../../shared/ipc-contract';
import { asApiError, call, keyrite, type ApiError } from '../app/api';
import { useAction, useLoad } from '../app/hooks';
import { useNavigate } from '../app/nav';
import { ErrorPanel } from '../components/ErrorPanel';
import { Loading } from '../components/Loading';
import { HIDDEN_PARAMETERS, ParameterFields, type ParamInput } from '../components/ParameterFields';
import { ScreenHeading } from '../components/ScreenHeading';

/**
 * The page between choosing a ceremony and check-in: where the bundle goes, rehearsal or real,
 * (for drills) which backup file to restore, and the ceremony's parameters, each with the limits
 * the script and the key policy set, checked live by the core. Start stays disabled while the
 * core refuses a value; what it last accepted is what the ceremony starts with and records.
 */
export function StartCeremony({ script }: { script: string }): React.JSX.Element {
  const navigate = useNavigate();
  const scripts = useLoad(() => call(keyrite().ceremony.scripts()));
  const settings = useLoad(() => call(keyrite().settings.get()));
  const info = useLoad(() => call(keyrite().app.info()));
  const [outDir, setOutDir] = useState('');
  const [backupFile, setBackupFile] = useState('');
  const [demo, setDemo] = useState<boolean | null>(null);
  const action = useAction();
  const s = scripts.data?.find((x) => x.id === script);
  const demoToken = info.data?.hsm?.demo ?? false;
  const rehearsal = demo ?? demoToken;
  const needsBackup = /recovery|drill|rotation|destruction/.test(script);
  const [edited, setEdited] = useState<Record<string, ParamInput>>({});
  const [form, setForm] = useState<ParameterFormData | null>(null);
  // The inputs the form's verdict is about: a verdict on older inputs (typing is faster than the
  // check) never disables Start, since submitting checks again anyway.
  const [formFor, setFormFor] = useState('');
  const [formError, setFormError] = useState<ApiError | null>(null);
  const asked = useRef(0);
  const given = (): Record<string, ParamInput> => {
    const g: Record<string, ParamInput> = { ...edited };
    if (backupFile.trim()) g.backupFile = backupFile.trim();
    return g;
  };
  const check = async (): Promise<ParameterFormData> => call(keyrite().ceremony.parameters({ script, parameters: given(), demo: rehearsal }));
  const inputsKey = JSON.stringify([script, edited, backupFile.trim(), rehearsal]);
  // Live validation: each change is checked by the core (the answer to the latest change wins).
  useEffect(() => {
    const n = ++asked.current;
    const key = inputsKey;
    const t = setTimeout(() => {
      check().then(
        (f) => {
          if (n !== asked.current) return;
          setForm(f);
          setFormFor(key);
          setFormError(null);
        },
        (e) => n === asked.current && setFormError(asApiError(e)),
      );
    }, 150);
    return () => clearTimeout(t);
  }, [inputsKey]);

  if (scripts.error) return <ErrorPanel error={scripts.error} onRetry={scripts.reload} />;
  if (!scripts.data || !settings.data || !info.data) return <Loading what="the ceremony" />;
  if (!s) return <ErrorPanel error={{ code: 'CEREMONY_SCRIPT_UNKNOWN', message: `There is no ceremony script '${script}'. Choose one from the home screen.` }} />;

  return (
    <form
      className="start"
      onSubmit={(e) => {
        e.preventDefault();
        void action.run(async () => {
          // Checked once more as submitted: a value typed a moment ago is never started unchecked.
          const fresh = await check();
          setForm(fresh);
          setFormFor(inputsKey);
          if (!fresh.ok) return;
          const parameters = Object.fromEntries(Object.entries(fresh.values).filter(([name]) => !HIDDEN_PARAMETERS.has(name)));
          const view = await call(
            keyrite().ceremony.start({ script, outDir: outDir.trim() || undefined, parameters, demo: rehearsal, backupFile: backupFile.trim() || undefined }),
          );
          navigate({ screen: 'ceremony', id: view.ceremonyId });
        });
      }}
    >
      <ScreenHeading>Start: {s.title}</ScreenHeading>
      <p>{s.description}</p>
      <p className="meta">
        Script {s.id} version {s.version} · SHA-256 <code>{s.sha256.slice(0, 16)}…</code>
      </p>
      <div className="field">
        <label htmlFor="out-dir">Bundle folder</label>
        <input id="out-dir" value={outDir} autoFocus placeholder={`${settings.data.effective.outputFolder}/${script}-<date>`} onChange={(e) => setOutDir(e.target.value)} spellCheck={false} />
        <p className="hint">A new, empty folder on the removable medium. Leave empty for a new folder under {settings.data.effective.outputFolder}.</p>
      </div>
      {needsBackup && (
        <div className="field">
          <label htmlFor="backup-file">Backup file to use</label>
          <input id="backup-file" value={backupFile} onChange={(e) => setBackupFile(e.target.value)} spellCheck={false} placeholder="/media/usb/…/backup/<key id>.backup.json" />
          <p className="hint">The KEK-wrapped backup from the key's generation ceremony bundle (leave empty if the ceremony does not use one).</p>
          {form?.fields
            .find((f) => f.name === 'backupFile')
            ?.problems.map((p, i) => (
              <p key={i} className="inline-error" data-code={p.code}>
                {p.message}
              </p>
            ))}
        </div>
      )}
      <div className="field checkbox">
        <label>
          <input type="checkbox" checked={rehearsal} disabled={!demoToken} onChange={(e) => setDemo(e.target.checked)} />
          Rehearsal on the demo token {demoToken ? '' : '(only available with the embedded demo token)'}
        </label>
      </div>
      {form ? (
        <ParameterFields form={form} edited={edited} onChange={(name, value) => setEdited((e) => ({ ...e, [name]: value }))} />
      ) : formError ? (
        <ErrorPanel error={formError} noHome title="The parameters could not be checked" />
      ) : (
        <Loading what="the parameters" />
      )}
      {action.error && <ErrorPanel error={action.error} noHome title="The ceremony did not start" />}
      <div className="actions">
        {/* Disabled only on a known refusal: while a check runs, Enter still submits (and submit checks again). */}
        <button type="submit" disabled={action.busy || (form?.ok === false && formFor === inputsKey)}>
          {action.busy ? 'Starting…' : 'Start the ceremony'}
        </button>
        <button type="button" className="secondary" onClick={() => navigate({ screen: 'home' })}>
          Cancel
        </button>
      </div>
    </form>
  );
}
