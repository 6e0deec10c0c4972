import { useState } from 'react';
import { call, keyrite } from '../app/api';
import { useAction, useLoad } from '../app/hooks';
import { useNavigate } from '../app/nav';
import { ErrorPanel } from '../components/ErrorPanel';
import { Loading } from '../components/Loading';
import { ScreenHeading } from '../components/ScreenHeading';

/** Where the bundle goes, rehearsal or real, and (for drills) which backup file to restore. */
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

  if (scripts.error) return <ErrorPanel error={scripts.error} onRetry={scripts.reload} />;
  if (!scripts.data || !settings.data || !info.data) return <Loading what="the ceremony" />;
  if (!s) return <ErrorPanel error={{ code: 'CEREMONY_SCRIPT_UNKNOWN', message: `There is no ceremony script '${script}'. Choose one from the home screen.` }} />;

  return (
    <form
      className="start"
      onSubmit={(e) => {
        e.preventDefault();
        void action.run(async () => {
          const view = await call(
            keyrite().ceremony.start({ script, outDir: outDir.trim() || undefined, demo: rehearsal, backupFile: backupFile.trim() || undefined }),
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
        </div>
      )}
      <div className="field checkbox">
        <label>
          <input type="checkbox" checked={rehearsal} disabled={!demoToken} onChange={(e) => setDemo(e.target.checked)} />
          Rehearsal on the demo token {demoToken ? '' : '(only available with the embedded demo token)'}
        </label>
      </div>
      {action.error && <ErrorPanel error={action.error} noHome title="The ceremony did not start" />}
      <div className="actions">
        <button type="submit" disabled={action.busy}>
          {action.busy ? 'Starting…' : 'Start the ceremony'}
        </button>
        <button type="button" className="secondary" onClick={() => navigate({ screen: 'home' })}>
          Cancel
        </button>
      </div>
    </form>
  );
}
