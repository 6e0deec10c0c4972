import { useEffect, useRef, useState } from 'react';
import { HashDisplay } from '../components/HashDisplay';
import type { StepProps } from './types';

/** Hex digits only, upper case: what the custodian types is compared without spaces or case. */
export function hexDigits(text: string): string {
  return text.replace(/[^0-9a-f]/gi, '').toUpperCase();
}

/**
 * Check-in of a custodian's OpenPGP key: the fingerprint, large, in groups and as words. The
 * custodian reads the words aloud while the room follows, compares the groups with their own
 * device (`gpg --fingerprint`, `gpg --card-status`), and types the last digits as their device
 * shows them — a key swapped on the way in (another file on the stick) is caught here.
 */
export function OpenPgpConfirm({ need, view, busy, provide }: StepProps<'openpgpConfirm'>): React.JSX.Element {
  const [typed, setTyped] = useState('');
  const [rejecting, setRejecting] = useState(false);
  const input = useRef<HTMLInputElement>(null);
  const name = need.custodian.name;
  const digits = hexDigits(typed);
  // After a refused confirmation, the typed digits stay, selected, to be retyped from the device.
  const errorKey = `${view.chainHead.seq}:${view.lastError?.code ?? ''}`;
  useEffect(() => {
    input.current?.focus();
    if (view.lastError) input.current?.select();
  }, [errorKey]);
  const submit = () => {
    if (busy || digits.length !== need.tailLength) return;
    void provide({ kind: 'openpgpConfirm', typed: digits });
  };
  return (
    <form
      className="openpgp-confirm"
      onSubmit={(e) => {
        e.preventDefault();
        submit();
      }}
    >
      <h2>{name}: is this your OpenPGP key?</h2>
      <p>
        {name} reads the words aloud while the room follows, and compares the groups with their own device (<code>gpg --fingerprint</code>, <code>gpg --card-status</code>). {name}&apos;s share will be sealed to this key, never shown.
      </p>
      <HashDisplay label={`OpenPGP key fingerprint of ${name}`} hex={need.fingerprint} words={need.fingerprintWords} className="fingerprint-large" />
      <dl className="openpgp-facts">
        <div>
          <dt>User id{need.userIds.length === 1 ? '' : 's'}</dt>
          <dd>{need.userIds.length > 0 ? need.userIds.join(' · ') : '(none)'}</dd>
        </div>
        <div>
          <dt>Encryption key</dt>
          <dd>{need.algorithm}</dd>
        </div>
        <div>
          <dt>Expires</dt>
          <dd>{need.expires ? need.expires.slice(0, 10) : 'never'}</dd>
        </div>
      </dl>
      <div className="field">
        <label htmlFor="openpgp-tail">
          {name}: type the last {need.tailLength} characters of the fingerprint as your own device shows them
        </label>
        <input
          id="openpgp-tail"
          ref={input}
          className="short mono"
          value={typed}
          maxLength={need.tailLength * 2}
          autoComplete="off"
          autoCapitalize="characters"
          spellCheck={false}
          aria-describedby="openpgp-tail-count"
          onChange={(e) => setTyped(e.target.value)}
        />
        <span id="openpgp-tail-count" className="hint">
          {digits.length} of {need.tailLength} hex digits
        </span>
      </div>
      {need.remaining > 0 && (
        <p className="hint">
          {need.remaining} more custodian{need.remaining === 1 ? '' : 's'} with an OpenPGP key after {name}.
        </p>
      )}
      {rejecting ? (
        <div className="warn-box reject-key" role="group" aria-label="Not my key">
          <p>
            The key is dropped and this is recorded in the transcript. {name} will be shown their share as words, with the room looking away, like a custodian without a key.
          </p>
          <div className="actions">
            <button type="button" className="danger" disabled={busy} onClick={() => void provide({ kind: 'openpgpReject' })}>
              Drop this key — {name} gets words on screen
            </button>
            {/* Focus on the safe choice: dropping the key takes a deliberate move. */}
            <button type="button" className="secondary" autoFocus onClick={() => setRejecting(false)}>
              Back: it is my key
            </button>
          </div>
        </div>
      ) : (
        <div className="actions">
          <button type="submit" disabled={busy || digits.length !== need.tailLength}>
            Confirm: this is {name}&apos;s key
          </button>
          <button type="button" className="secondary" disabled={busy} onClick={() => setRejecting(true)}>
            This is not my key…
          </button>
        </div>
      )}
    </form>
  );
}
