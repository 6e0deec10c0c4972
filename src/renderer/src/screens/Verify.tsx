import { useState } from 'react';
import { call, keyrite, type Out } from '../app/api';
import { useAction } from '../app/hooks';
import { ErrorPanel } from '../components/ErrorPanel';
import { HashDisplay } from '../components/HashDisplay';
import { PrintButton } from '../components/PrintButton';
import { ScreenHeading } from '../components/ScreenHeading';

/** Verify an exported bundle: every event, the chain, the signature, every file. */
export function Verify({ initialDir }: { initialDir?: string }): React.JSX.Element {
  const [dir, setDir] = useState(initialDir ?? '');
  const [result, setResult] = useState<Out<'bundle:verify'> | undefined>();
  const action = useAction();
  const verify = () =>
    action.run(async () => {
      setResult(undefined);
      setResult(await call(keyrite().bundle.verify({ dir })));
    });
  return (
    <div className="verify">
      <ScreenHeading>Verify a bundle</ScreenHeading>
      <form
        onSubmit={(e) => {
          e.preventDefault();
          void verify();
        }}
      >
        <div className="field">
          <label htmlFor="bundle-dir">Bundle folder</label>
          <input id="bundle-dir" autoFocus value={dir} onChange={(e) => setDir(e.target.value)} spellCheck={false} placeholder="/media/usb/root-key-generation-20260101-0900" />
          <p className="hint">The folder holding transcript.jsonl, transcript.sig, transcript-key.pem and SHA256SUMS.</p>
        </div>
        <div className="actions">
          <button type="submit" disabled={action.busy || !dir.trim()}>
            {action.busy ? 'Verifying…' : 'Verify'}
          </button>
        </div>
      </form>
      {action.error && <ErrorPanel error={action.error} onRetry={() => void verify()} retryLabel="Verify again" title="The bundle did not verify" />}
      {result && (
        <section className="verified" role="status" aria-labelledby="verified-title">
          <h2 id="verified-title">✔ The bundle verifies</h2>
          <p>
            {result.title} · {result.outcome === 'aborted' ? 'aborted ceremony · ' : ''}
            {result.demo ? 'rehearsal · ' : ''}
            {result.eventCount} events, every hash and link checked, signature valid, {result.files.length} files match SHA256SUMS.
          </p>
          <HashDisplay label="Final transcript hash" hex={result.finalHash} words={result.finalHashWords} className="final-hash" />
          <dl className="facts">
            <div>
              <dt>Ceremony</dt>
              <dd>
                <code>{result.ceremonyId}</code>
              </dd>
            </div>
            <div>
              <dt>Started</dt>
              <dd>{result.startedAt}</dd>
            </div>
            <div>
              <dt>Sealed</dt>
              <dd>{result.sealedAt}</dd>
            </div>
            <div>
              <dt>Transcript key</dt>
              <dd>
                <code>{result.transcriptKeyFingerprint}</code>
                <div className="meta">{result.transcriptKeyWords.join(' ')}</div>
              </dd>
            </div>
            <div>
              <dt>Participants</dt>
              <dd>{result.participants.map((p) => `${p.name} (${p.roles.join(', ')})`).join('; ') || 'none recorded'}</dd>
            </div>
            <div>
              <dt>Keys</dt>
              <dd>
                {result.keys.map((k, i) => (
                  <div key={i}>
                    {k.id} {k.type ? `· ${k.type}` : ''} {k.fingerprint && <code>{k.fingerprint}</code>}
                  </div>
                ))}
                {result.keys.length === 0 && 'none'}
              </dd>
            </div>
          </dl>
          <div className="actions">
            <PrintButton dir={result.dir} />
          </div>
        </section>
      )}
    </div>
  );
}
