import { useId, useState } from 'react';
import { completions, handleSuggestionKey, isWord, splitWords } from '../app/words';

interface Props {
  label: string;
  value: string;
  onChange: (value: string) => void;
  onSubmit: () => void;
  expectedWords: number;
  textareaRef?: React.Ref<HTMLTextAreaElement>;
  /** 1-based position of the word the core thinks is wrong. */
  flagged?: number;
}

/**
 * A whole share typed as words. The word being typed completes from the list (Tab or → takes the
 * suggestion); Enter submits, Shift+Enter starts a new line. Words not in the list are marked as
 * soon as they are finished, and the count is shown against what a share has.
 */
export function WordsArea({ label, value, onChange, onSubmit, expectedWords, textareaRef, flagged }: Props): React.JSX.Element {
  const id = useId();
  const [active, setActive] = useState(0);
  const words = splitWords(value);
  const endsInSpace = /\s$/.test(value) || value.length === 0;
  const current = endsInSpace ? '' : (value.split(/\s+/).pop() ?? '').toLowerCase();
  const options = current && !isWord(current) ? completions(current) : [];
  const finished = endsInSpace ? words : words.slice(0, -1);
  const unknown = finished.map((w, i) => ({ w, pos: i + 1 })).filter(({ w }) => !isWord(w) && completions(w, 2).length !== 1);
  const complete = (w: string) => {
    onChange(value.slice(0, value.length - current.length) + w + ' ');
    setActive(0);
  };
  return (
    <div className="words-area">
      <label htmlFor={id}>{label}</label>
      <textarea
        id={id}
        ref={textareaRef}
        value={value}
        rows={4}
        autoComplete="off"
        autoCapitalize="off"
        spellCheck={false}
        aria-describedby={`${id}-status`}
        onChange={(e) => {
          onChange(e.target.value);
          setActive(0);
        }}
        onKeyDown={(e) => {
          if (e.key === 'Enter' && !e.shiftKey) {
            e.preventDefault();
            onSubmit();
            return;
          }
          handleSuggestionKey(e, options, active, setActive, complete);
        }}
      />
      {options.length > 0 && (
        <ul className="completions inline" role="listbox" aria-label="Matching words">
          {options.map((w, i) => (
            <li key={w} role="option" aria-selected={i === active} className={i === active ? 'active' : undefined} onMouseDown={(e) => { e.preventDefault(); complete(w); }}>
              {w}
            </li>
          ))}
        </ul>
      )}
      <p id={`${id}-status`} className="words-status" aria-live="polite">
        {words.length} of {expectedWords} words
        {unknown.length > 0 && (
          <span className="warn">
            {' '}
            · not in the word list: {unknown.map((u) => `word ${u.pos} (“${u.w}”)`).join(', ')}
          </span>
        )}
      </p>
      {flagged !== undefined && words.length > 0 && (
        <ol className="word-chips" aria-label="Your words">
          {words.map((w, i) => (
            <li key={i} className={i + 1 === flagged ? 'flagged' : undefined}>
              <span className="pos">{i + 1}</span> {w}
            </li>
          ))}
        </ol>
      )}
    </div>
  );
}
