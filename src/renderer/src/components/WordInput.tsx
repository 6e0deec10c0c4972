import { useId, useState } from 'react';
import { completions, handleSuggestionKey, isWord } from '../app/words';

interface Props {
  label: string;
  value: string;
  onChange: (value: string) => void;
  autoFocus?: boolean;
  inputRef?: React.Ref<HTMLInputElement>;
  invalid?: boolean;
  /**
   * Words of a share that is never shown (sealed to the custodian's OpenPGP key): typed blind, no
   * completion list (it would spell the word out), and uncontrolled, so the word is never in a
   * DOM attribute either. `value` is then only the starting text.
   */
  masked?: boolean;
}

/**
 * One share word with completion from the word list. Typing narrows the list; Tab or → takes the
 * highlighted word (only while the typed text is not already a whole word, so Tab still moves on);
 * ↑/↓ choose. Enter is left to the form (it submits).
 */
export function WordInput({ label, value, onChange, autoFocus, inputRef, invalid, masked }: Props): React.JSX.Element {
  const id = useId();
  if (masked) {
    return (
      <div className="word-input masked">
        <label htmlFor={id}>{label}</label>
        <input
          id={id}
          ref={inputRef}
          type="password"
          className={invalid ? 'invalid' : undefined}
          defaultValue={value}
          autoFocus={autoFocus}
          autoComplete="off"
          autoCapitalize="off"
          spellCheck={false}
          onChange={(e) => onChange(e.target.value)}
        />
      </div>
    );
  }
  return <ListWordInput label={label} value={value} onChange={onChange} autoFocus={autoFocus} inputRef={inputRef} invalid={invalid} />;
}

function ListWordInput({ label, value, onChange, autoFocus, inputRef, invalid }: Props): React.JSX.Element {
  const id = useId();
  const [active, setActive] = useState(0);
  const [focused, setFocused] = useState(false);
  const typed = value.trim().toLowerCase();
  const options = typed && !isWord(typed) ? completions(typed) : [];
  const open = focused && options.length > 0;
  const choose = (w: string) => {
    onChange(w);
    setActive(0);
  };
  return (
    <div className="word-input">
      <label htmlFor={id}>{label}</label>
      <input
        id={id}
        ref={inputRef}
        className={invalid || (typed.length >= 4 && options.length === 0 && !isWord(typed)) ? 'invalid' : undefined}
        value={value}
        autoFocus={autoFocus}
        autoComplete="off"
        autoCapitalize="off"
        spellCheck={false}
        role="combobox"
        aria-expanded={open}
        aria-controls={`${id}-list`}
        aria-autocomplete="list"
        aria-activedescendant={open ? `${id}-opt-${active}` : undefined}
        onFocus={() => setFocused(true)}
        onBlur={() => setFocused(false)}
        onChange={(e) => {
          onChange(e.target.value);
          setActive(0);
        }}
        onKeyDown={(e) => {
          if (open) handleSuggestionKey(e, options, active, setActive, choose);
        }}
      />
      {open && (
        <ul className="completions" id={`${id}-list`} role="listbox">
          {options.map((w, i) => (
            <li key={w} id={`${id}-opt-${i}`} role="option" aria-selected={i === active} className={i === active ? 'active' : undefined} onMouseDown={(e) => { e.preventDefault(); choose(w); }}>
              {w}
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}
