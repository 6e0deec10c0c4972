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
      {action.error && /^(TRANSCRIPT|BUNDLE)_/.test(action.error.code) && (
        <section className="warn-box next-steps" aria-label="What to do next">
          <h2>What to do next</h2>
          {Array.isArray(action.error.details?.advice) ? (
            // The core's advice names the file (and event) at fault, the evidence to keep and whom to call.
            <ol>
              {(action.error.details.advice as unknown[]).map((a, i) => (
                <li key={i}>{String(a)}</li>
              ))}
            </ol>
          ) : (
            <ol>
              <li>Do not use this copy: keys, certificates and backups from it cannot be trusted.</li>
              <li>Verify the other copies of the bundle (the second removable medium, the archive).</li>
              <li>Compare the final hash on the signed paper transcript with a copy that verifies.</li>
              <li>Tell the ceremony administrator and the security officer, with the error code above; keep this copy as evidence.</li>
            </ol>
          )}
        </section>
      )}
      {result && (
        <section className="verified" role="status" aria-labelledby="verified-title">
          {result.demo && <p className="demo-banner">DEMO — this ceremony was a rehearsal on the demo token; nothing in it is a real key</p>}
          <h2 id="verified-title">✔ The bundle verifies against its own transcript key</h2>
          <p className="hint">
            That proves the files agree with each other, not who made them: the key that signed is inside the bundle. Compare the final hash with the paper the witnesses signed.
          </p>
          <p>
            {result.title} · {result.outcome === 'aborted' ? 'aborted ceremony · ' : ''}
            {result.demo ? 'rehearsal · ' : ''}
            {result.eventCount} events, every hash and link checked, signature valid, {result.files.length} files match SHA256SUMS.
          </p>
          <HashDisplay label="Final transcript hash" hex={result.finalHash} words={result.finalHashWords} className="final-hash" />
          <PaperComparison hex={result.finalHash} words={result.finalHashWords} />
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

const normHex = (s: string) => s.toLowerCase().replace(/[^0-9a-f]/g, '');
const normWords = (s: string) => s.toLowerCase().split(/[^a-z]+/).filter(Boolean).join(' ');

/**
 * The auditor types the final hash from the signed paper transcript (hex, or the words read
 * aloud) and Keyrite compares it with the bundle's. A match ties this bundle to the ceremony the
 * witnesses signed for; the key inside the bundle alone cannot.
 */
function PaperComparison({ hex, words }: { hex: string; words: string[] }): React.JSX.Element {
  const [paper, setPaper] = useState('');
  const typed = paper.trim();
  const asWords = /[g-z]/i.test(typed);
  const outcome = !typed ? null : asWords ? normWords(typed) === normWords(words.join(' ')) : normHex(typed) === hex;
  // For words, name the first one that differs, so the auditor knows where to look on the paper.
  const typedWords = normWords(typed).split(' ');
  const firstDiff = asWords ? words.findIndex((w, i) => typedWords[i] !== w.toLowerCase()) : -1;
  return (
    <section className="paper-compare" aria-labelledby="paper-title">
      <h3 id="paper-title">Compare with the signed paper</h3>
      <div className="field">
        <label htmlFor="paper-hash">Final hash from the paper transcript (hex or words)</label>
        <textarea id="paper-hash" rows={2} value={paper} spellCheck={false} onChange={(e) => setPaper(e.target.value)} />
      </div>
      {outcome === true && (
        <p className="paper-match" role="status">
          ✔ Matches the paper: this is the bundle of the ceremony the witnesses signed.
        </p>
      )}
      {outcome === false && (
        <p className="paper-mismatch" role="alert">
          ✘ Does not match the paper
          {asWords ? (firstDiff >= 0 ? ` (word ${firstDiff + 1} differs)` : ` (${typedWords.length} words typed, the hash has ${words.length})`) : ` (${normHex(typed).length} of 64 hex digits typed)`}. Check what you typed; if it still differs, this is not the bundle the witnesses signed: do not use it, and
          tell the ceremony administrator.
        </p>
      )}
    </section>
  );
}
