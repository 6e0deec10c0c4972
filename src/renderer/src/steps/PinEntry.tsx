import { useState } from 'react';
import { useAutoFocus } from '../app/hooks';
import type { StepProps } from './types';

/**
 * PIN entry: masked, never stored. The field is emptied the moment the PIN is sent, before the
 * answer comes back, so it does not sit in the page while the HSM works.
 */
export function PinEntry({ need, busy, provide }: StepProps<'pin'>): React.JSX.Element {
  const [pin, setPin] = useState('');
  const ref = useAutoFocus<HTMLInputElement>(need.user + need.tokenLabel);
  const who = need.user === 'so' ? 'Security Officer (SO) PIN' : 'user PIN';
  return (
    <form
      className="pin-entry"
      onSubmit={(e) => {
        e.preventDefault();
        if (!pin || busy) return;
        const value = pin;
        setPin('');
        if (ref.current) ref.current.value = '';
        void provide({ kind: 'pin', pin: value });
      }}
    >
      <h2>PIN entry</h2>
      <p className="need-message">{need.message}</p>
      <p>
        The <strong>{need.role}</strong> types the {who} of token <strong>{need.tokenLabel}</strong>. Others look away from the keyboard.
      </p>
      <label htmlFor="pin">{who[0].toUpperCase() + who.slice(1)}</label>
      <input id="pin" ref={ref} type="password" className="pin" value={pin} onChange={(e) => setPin(e.target.value)} autoComplete="off" autoCorrect="off" spellCheck={false} inputMode="numeric" />
      <div className="actions">
        <button type="submit" disabled={busy || pin.length === 0}>
          {busy ? 'Logging in…' : 'Log in'}
        </button>
      </div>
    </form>
  );
}
