import { useEffect, useRef, useState } from 'react';
import { useAutoFocus } from '../app/hooks';
import { usePrivateScreen } from '../app/presentation';
import { splitWords } from '../app/words';
import { WordsArea } from '../components/WordsArea';
import { PrintShareCard } from './PrintShareCard';
import { ReadBackForm } from './ReadBack';
import { SealedHandout } from './SealedHandout';
import { SHARE_WORDS } from './share-words';
import type { StepProps } from './types';

/**
 * Share hand-out, one custodian at a time, in three phases the core drives:
 * privacy (everyone else looks away) → reveal (the words, once) → confirm (re-enter some words).
 */
export function ShareHandout({ need, view, busy, provide, runView }: StepProps<'shareHandout'>): React.JSX.Element {
  const key = `${need.shareIndex}:${need.phase}`;
  // Sealed to the custodian's OpenPGP key: a different flow, in which no word is ever shown.
  if (need.sealed) return <SealedHandout key={key} need={need} view={view} busy={busy} provide={provide} runView={runView} />;
  switch (need.phase) {
    case 'privacy':
      return <Privacy key={key} need={need} view={view} busy={busy} provide={provide} />;
    case 'reveal':
      return <Reveal key={key} need={need} view={view} busy={busy} provide={provide} />;
    case 'confirm':
      return <Confirm key={key} need={need} view={view} busy={busy} provide={provide} />;
    case 'seal':
      // 'seal' comes only with `sealed` (handled above); the core never sends it alone.
      return <p key={key}>Share {need.shareIndex} is sealed to {need.custodian.name}&apos;s OpenPGP key.</p>;
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

function Reveal(props: StepProps<'shareHandout'>): React.JSX.Element {
  return props.view.revealedShare ? <RevealShare {...props} /> : <ReshowGate {...props} />;
}

function RevealShare({ need, view, busy, provide }: StepProps<'shareHandout'>): React.JSX.Element {
  usePrivateScreen();
  const ref = useRef<HTMLButtonElement>(null);
  const top = useRef<HTMLElement>(null);
  useEffect(() => {
    // Focus the button without scrolling to it: the screen opens at its header and word 1.
    ref.current?.focus({ preventScroll: true });
    window.scrollTo(0, 0);
    top.current?.scrollIntoView({ block: 'start' });
  }, []);
  const share = view.revealedShare!;
  return (
    <section className="share-reveal" aria-labelledby="reveal-title" ref={top}>
      <h2 id="reveal-title">
        {need.custodian.name}: write down share {need.shareIndex} of {need.of}
      </h2>
      <p className="share-header">{share.header}</p>
      {/* The printed card's grid: 3 columns of 11, read down each column (styles/app.css). */}
      <ol className="share-words" aria-label="Share words">
        {share.words.map((w, i) => (
          <li key={i}>
            <span className="pos">{i + 1}</span> <span className="word">{w}</span>
          </li>
        ))}
      </ol>
      <p className="share-instructions">
        Copy every word with its number, column by column as on the card. The words leave the screen when you continue; seeing them again means the room looks away again, and it is recorded.
        {need.shareCards === true && ' This script also allows a printed card: print it now, while the share is on screen.'}
      </p>
      <div className="actions">
        <button ref={ref} type="button" disabled={busy} onClick={() => void provide({ kind: 'shareAck' })}>
          Written down — hide the share
        </button>
        {need.shareCards === true && <PrintShareCard ceremonyId={view.ceremonyId} shareIndex={need.shareIndex} disabled={busy} />}
      </div>
    </section>
  );
}

/**
 * The share was shown once and this screen was left (another screen, a reload, a resume): it is
 * not shown again here. Asking to see it again goes back through the privacy gate and is recorded.
 */
function ReshowGate({ need, busy, provide }: StepProps<'shareHandout'>): React.JSX.Element {
  const ref = useAutoFocus<HTMLButtonElement>();
  return (
    <section className="share-reveal share-hidden" aria-labelledby="hidden-title">
      <h2 id="hidden-title">
        Share {need.shareIndex} of {need.of} is hidden
      </h2>
      <p>
        The share was shown to {need.custodian.name} and this screen was left, so it is not shown again here. If {need.custodian.name} has not finished writing it down, ask to see it again: the room
        looks away again first, and the re-show is recorded in the transcript.
      </p>
      <div className="actions">
        <button ref={ref} type="button" className="secondary" disabled={busy} onClick={() => void provide({ kind: 'shareReshow' })}>
          Ask to see share {need.shareIndex} again (recorded)
        </button>
        <button type="button" disabled={busy} onClick={() => void provide({ kind: 'shareAck' })}>
          It is written down — go to the read-back
        </button>
      </div>
    </section>
  );
}

function ReshowButton({ need, busy, provide }: StepProps<'shareHandout'>): React.JSX.Element {
  return (
    <button type="button" className="secondary" disabled={busy} onClick={() => void provide({ kind: 'shareReshow' })}>
      See share {need.shareIndex} again (room looks away, recorded)
    </button>
  );
}

function Confirm(props: StepProps<'shareHandout'>): React.JSX.Element {
  usePrivateScreen();
  return (props.need.confirmPositions ?? []).length > 0 ? <ConfirmSome {...props} /> : <ConfirmAll {...props} />;
}

/** Re-entry of the whole share, when the script asks for every word back. Kept after a mismatch, to correct. */
function ConfirmAll(props: StepProps<'shareHandout'>): React.JSX.Element {
  const { need, busy, provide } = props;
  const [text, setText] = useState('');
  const ref = useAutoFocus<HTMLTextAreaElement>();
  const submit = () => {
    if (busy || !text.trim()) return;
    void provide({ kind: 'shareConfirm', words: splitWords(text) });
  };
  return (
    <form className="share-confirm" onSubmit={(e) => { e.preventDefault(); submit(); }}>
      <h2>{need.custodian.name}: read back your whole card</h2>
      <WordsArea label="All the words on your card, in order" value={text} onChange={setText} onSubmit={submit} expectedWords={SHARE_WORDS} textareaRef={ref} />
      <div className="actions">
        <button type="submit" disabled={busy || !text.trim()}>
          Confirm the card
        </button>
        <ReshowButton {...props} />
      </div>
    </form>
  );
}

/**
 * Read-back of some words. After a mismatch the words stay as typed and the wrong ones are marked
 * (and focused), so the custodian corrects one word instead of retyping all of them.
 */
function ConfirmSome(props: StepProps<'shareHandout'>): React.JSX.Element {
  const { need, view, busy, provide } = props;
  return (
    <ReadBackForm
      positions={need.confirmPositions ?? []}
      view={view}
      busy={busy}
      title={`${need.custodian.name}: read back from your card`}
      intro="Type the words at these positions from the card you just wrote, to prove it is readable. They are words only your share has."
      submitLabel="Confirm the card"
      onSubmit={(words) => void provide({ kind: 'shareConfirm', words })}
      actions={<ReshowButton {...props} />}
    />
  );
}

