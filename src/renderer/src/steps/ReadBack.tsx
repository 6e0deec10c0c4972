import { useEffect, useRef, useState } from 'react';
import { WordInput } from '../components/WordInput';
import type { StepProps } from './types';

/** Positions (1-based) the core said were wrong at the last read-back, if that was the last problem. */
export function wrongPositions(view: StepProps<'shareHandout'>['view']): number[] {
  const e = view.lastError;
  if (e?.code !== 'SHARE_CONFIRM_MISMATCH') return [];
  const p = e.details?.positions;
  return Array.isArray(p) ? p.filter((x): x is number => typeof x === 'number') : [];
}

/**
 * The read-back grid, shared by on-screen shares and shares sealed to an OpenPGP key (there typed
 * blind: `masked`). Positions are 0-based from the core and shown 1-based. After a mismatch the
 * words stay as typed, the wrong ones are marked and the first is focused and selected.
 */
export function ReadBackForm({ positions, view, busy, title, intro, submitLabel, onSubmit, actions, masked, className }: {
  positions: number[];
  view: StepProps<'shareHandout'>['view'];
  busy: boolean;
  title: string;
  intro: React.ReactNode;
  submitLabel: string;
  onSubmit: (words: string[]) => void;
  actions?: React.ReactNode;
  masked?: boolean;
  className?: string;
}): React.JSX.Element {
  const [words, setWords] = useState<string[]>(() => positions.map(() => ''));
  const wrong = wrongPositions(view);
  const [edited, setEdited] = useState<Set<number>>(new Set());
  const firstWrong = useRef<HTMLInputElement>(null);
  const wrongKey = `${view.chainHead.seq}:${wrong.join(',')}`;
  useEffect(() => {
    setEdited(new Set());
    firstWrong.current?.focus();
    firstWrong.current?.select();
  }, [wrongKey]);
  const firstWrongIndex = positions.findIndex((p) => wrong.includes(p + 1));
  return (
    <form
      className={`share-confirm${className ? ` ${className}` : ''}`}
      onSubmit={(e) => {
        e.preventDefault();
        if (busy) return;
        onSubmit(words.map((w) => w.trim().toLowerCase()));
      }}
    >
      <h2>{title}</h2>
      <p>{intro}</p>
      <div className="confirm-words">
        {positions.map((p, i) => {
          const bad = wrong.includes(p + 1) && !edited.has(i);
          return (
            <WordInput
              key={p}
              label={`Word ${p + 1}${bad ? ' — does not match' : ''}`}
              value={words[i]}
              invalid={bad}
              masked={masked}
              autoFocus={i === 0 && wrong.length === 0}
              inputRef={i === firstWrongIndex ? firstWrong : undefined}
              onChange={(v) => {
                setEdited((s) => new Set(s).add(i));
                setWords((ws) => ws.map((w, j) => (j === i ? v : w)));
              }}
            />
          );
        })}
      </div>
      <div className="actions">
        <button type="submit" disabled={busy || words.some((w) => !w.trim())}>
          {submitLabel}
        </button>
        {actions}
      </div>
    </form>
  );
}
