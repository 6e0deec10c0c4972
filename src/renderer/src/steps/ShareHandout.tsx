import { useState } from 'react';
import { useAutoFocus } from '../app/hooks';
import { splitWords } from '../app/words';
import { WordInput } from '../components/WordInput';
import { WordsArea } from '../components/WordsArea';
import { PrintShareCard } from './PrintShareCard';
import { SHARE_WORDS } from './share-words';
import type { StepProps } from './types';

/**
 * Share hand-out, one custodian at a time, in three phases the core drives:
 * privacy (everyone else looks away) → reveal (the words, once) → confirm (re-enter some words).
 */
export function ShareHandout({ need, view, busy, provide }: StepProps<'shareHandout'>): React.JSX.Element {
  const key = `${need.shareIndex}:${need.phase}`;
  switch (need.phase) {
    case 'privacy':
      return <Privacy key={key} need={need} view={view} busy={busy} provide={provide} />;
    case 'reveal':
      return <Reveal key={key} need={need} view={view} busy={busy} provide={provide} />;
    case 'confirm':
      return <Confirm key={key} need={need} view={view} busy={busy} provide={provide} />;
  }
}

function Privacy({ need, busy, provide }: StepProps<'shareHandout'>): React.JSX.Element {
  const ref = useAutoFocus<HTMLButtonElement>();
  return (
    <section className="privacy-screen" aria-labelledby="privacy-title">
      <p className="share-count">
        Share {need.shareIndex} of {need.of}
      </p>
      <h2 id="privacy-title" className="privacy-title">
        Everyone except {need.custodian.name} looks away now.
      </h2>
      <p>
        Only <strong>{need.custodian.name}</strong> may see the next screen. Cameras stay pointed away from the monitor. When the room is ready, {need.custodian.name} shows the share.
      </p>
      <p className="warn-box">If this screen is mirrored to a projector or recorded, switch that off first. The witness window never shows shares.</p>
      <div className="actions">
        <button ref={ref} type="button" disabled={busy} onClick={() => void provide({ kind: 'shareAck' })}>
          Only {need.custodian.name} is looking — show the share
        </button>
      </div>
    </section>
  );
}

function Reveal({ need, view, busy, provide }: StepProps<'shareHandout'>): React.JSX.Element {
  const ref = useAutoFocus<HTMLButtonElement>();
  const share = view.revealedShare;
  return (
    <section className="share-reveal" aria-labelledby="reveal-title">
      <h2 id="reveal-title">
        {need.custodian.name}: write down share {need.shareIndex} of {need.of}
      </h2>
      {share ? (
        <>
          <p className="share-header">{share.header}</p>
          <ol className="share-words" aria-label="Share words">
            {share.words.map((w, i) => (
              <li key={i}>
                <span className="pos">{i + 1}</span> <span className="word">{w}</span>
              </li>
            ))}
          </ol>
          <p>
            Write every word on the share card, in order, with its number. Check each one. The words disappear from the screen when you continue.
            {need.shareCards === true && ' This script also allows a printed card (words and QR code): print it now, while the share is on screen.'}
          </p>
        </>
      ) : (
        <p className="form-problem">The share is not available on this screen. Continue, and the ceremony will ask again.</p>
      )}
      <div className="actions">
        <button ref={ref} type="button" disabled={busy} onClick={() => void provide({ kind: 'shareAck' })}>
          Written down — hide the share
        </button>
        {share && need.shareCards === true && <PrintShareCard ceremonyId={view.ceremonyId} shareIndex={need.shareIndex} disabled={busy} />}
      </div>
    </section>
  );
}

function Confirm(props: StepProps<'shareHandout'>): React.JSX.Element {
  return (props.need.confirmPositions ?? []).length > 0 ? <ConfirmSome {...props} /> : <ConfirmAll {...props} />;
}

/** Re-entry of the whole share, when the script asks for every word back. */
function ConfirmAll({ need, busy, provide }: StepProps<'shareHandout'>): React.JSX.Element {
  const [text, setText] = useState('');
  const ref = useAutoFocus<HTMLTextAreaElement>();
  const submit = () => {
    if (busy || !text.trim()) return;
    const sent = splitWords(text);
    setText('');
    void provide({ kind: 'shareConfirm', words: sent });
  };
  return (
    <form className="share-confirm" onSubmit={(e) => { e.preventDefault(); submit(); }}>
      <h2>{need.custodian.name}: read back your whole card</h2>
      <WordsArea label="All the words on your card, in order" value={text} onChange={setText} onSubmit={submit} expectedWords={SHARE_WORDS} textareaRef={ref} />
      <div className="actions">
        <button type="submit" disabled={busy || !text.trim()}>
          Confirm the card
        </button>
      </div>
    </form>
  );
}

function ConfirmSome({ need, busy, provide }: StepProps<'shareHandout'>): React.JSX.Element {
  const positions = need.confirmPositions ?? [];
  const [words, setWords] = useState<string[]>(() => positions.map(() => ''));
  return (
    <form
      className="share-confirm"
      onSubmit={(e) => {
        e.preventDefault();
        if (busy) return;
        const sent = words.map((w) => w.trim().toLowerCase());
        setWords(positions.map(() => ''));
        void provide({ kind: 'shareConfirm', words: sent });
      }}
    >
      <h2>{need.custodian.name}: read back from your card</h2>
      <p>Type the words at these positions from the card you just wrote, to prove it is readable.</p>
      <div className="confirm-words">
        {positions.map((p, i) => (
          <WordInput key={p} label={`Word ${p + 1}`} value={words[i]} autoFocus={i === 0} onChange={(v) => setWords((ws) => ws.map((w, j) => (j === i ? v : w)))} />
        ))}
      </div>
      <div className="actions">
        <button type="submit" disabled={busy || words.some((w) => !w.trim())}>
          Confirm the card
        </button>
      </div>
    </form>
  );
}
