import { useEffect, useRef, useState } from 'react';
import { call, keyrite } from '../app/api';
import { useAutoFocus } from '../app/hooks';
import { splitWords } from '../app/words';
import { WordsArea } from '../components/WordsArea';
import { SHARE_WORDS } from './share-words';
import type { StepProps } from './types';

/**
 * Share entry for recovery: one custodian types their card; the core checks it at once. When the
 * checksum points at one word, that word is highlighted with the correction the core suggests,
 * and one key applies it. The typed words stay in the field only until the share is accepted.
 */
export function ShareEntry({ need, view, busy, provide, runView }: StepProps<'shareEntry'>): React.JSX.Element {
  const [text, setText] = useState('');
  const ref = useAutoFocus<HTMLTextAreaElement>(need.accepted.length);
  const acceptedBefore = useRef(need.accepted.length);
  const error = view.lastError;
  const position = typeof error?.details?.position === 'number' ? error.details.position : undefined;
  const suggestion = typeof error?.details?.suggestion === 'string' ? error.details.suggestion : Array.isArray(error?.details?.suggestions) && typeof error.details.suggestions[0] === 'string' ? error.details.suggestions[0] : undefined;

  // A share was accepted: forget its words.
  useEffect(() => {
    if (need.accepted.length !== acceptedBefore.current) {
      acceptedBefore.current = need.accepted.length;
      setText('');
    }
  }, [need.accepted.length]);

  const submit = () => {
    if (busy || !text.trim()) return;
    void provide({ kind: 'share', text });
  };

  // A share sealed to a custodian's OpenPGP key, decrypted on their own device: main reads the
  // file the dialog picked and hands its text to the same decoder; the text never reaches here.
  const loadFile = () => {
    if (busy || !runView) return;
    void runView(async () => {
      const r = await call(keyrite().ceremony.provideShareFile({ id: view.ceremonyId }));
      return r.picked ? r.view : null;
    });
  };

  const applySuggestion = () => {
    if (position === undefined || !suggestion) return;
    const words = splitWords(text);
    if (position < 1 || position > words.length) return;
    words[position - 1] = suggestion;
    setText(words.join(' '));
    (ref.current as HTMLTextAreaElement | null)?.focus();
  };

  return (
    <form className="share-entry" onSubmit={(e) => { e.preventDefault(); submit(); }}>
      <h2>Enter the shares</h2>
      <p className="need-message">
        {need.threshold} shares of split <strong>{need.splitId}</strong> rebuild the key-encryption key. {need.accepted.length} accepted, {need.needed} still needed.
      </p>
      {need.accepted.length > 0 && (
        <ul className="accepted" aria-label="Accepted shares">
          {need.accepted.map((a) => (
            <li key={a.index}>
              <span aria-hidden="true">✔</span> Share {a.index} ({a.custodian}) accepted
            </li>
          ))}
        </ul>
      )}
      <p>The next custodian types their card (everyone else looks away from the screen), or hands over their share file decrypted on their own device.</p>
      <WordsArea label={`Share words (${SHARE_WORDS}), in order`} value={text} onChange={setText} onSubmit={submit} expectedWords={SHARE_WORDS} textareaRef={ref} flagged={error && position !== undefined ? position : undefined} />
      {error && position !== undefined && suggestion && (
        <div className="correction" role="status">
          <p>
            Word {position} looks wrong. Suggested correction: <strong className="suggestion">{suggestion}</strong>. Check word {position} on the card first.
          </p>
          <button type="button" className="secondary" onClick={applySuggestion}>
            Use “{suggestion}” for word {position}
          </button>
        </div>
      )}
      <div className="actions">
        <button type="submit" disabled={busy || !text.trim()}>
          {busy ? 'Checking…' : 'Check and add this share'}
        </button>
        {runView && (
          <button type="button" className="secondary load-share-file" disabled={busy} onClick={loadFile}>
            Load a decrypted share file…
          </button>
        )}
      </div>
    </form>
  );
}
