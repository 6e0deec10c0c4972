import { useState } from 'react';
import { useAutoFocus } from '../app/hooks';
import type { StepProps } from './types';

export function Continue(props: StepProps<'continue'>): React.JSX.Element {
  return props.need.irreversible ? <Irreversible {...props} /> : <Plain {...props} />;
}

function Plain({ need, view, busy, provide }: StepProps<'continue'>): React.JSX.Element {
  const ref = useAutoFocus<HTMLButtonElement>(view.current?.index);
  return (
    <section className="continue">
      <p className="need-message">{need.message}</p>
      <div className="actions">
        <button ref={ref} type="button" disabled={busy} onClick={() => void provide({ kind: 'continue' })}>
          {busy ? 'Working…' : 'Continue'}
        </button>
      </div>
    </section>
  );
}

/**
 * Making or destroying a key cannot be undone: the button is not the usual Continue, it is not
 * focused, it names the token and the key, and it stays disabled until the token label (and the
 * key id, for a destruction) is typed exactly.
 */
function Irreversible({ need, busy, provide }: StepProps<'continue'>): React.JSX.Element {
  const act = need.irreversible!;
  const [keyId, setKeyId] = useState('');
  const [label, setLabel] = useState('');
  const first = useAutoFocus<HTMLInputElement>();
  const keyOk = !act.keyId || keyId.trim() === act.keyId;
  const labelOk = label.trim() === act.tokenLabel;
  const verb = act.act === 'generate' ? `Generate the ${act.keyType ?? ''} key on token ${act.tokenLabel}` : `Destroy key ${act.keyId ?? ''} on token ${act.tokenLabel}`;
  return (
    <section className={`continue irreversible irreversible-${act.act}`}>
      <p className="need-message">{need.message}</p>
      <p className="warn-box">
        This cannot be undone. Go ahead only when the quorum agrees. To confirm, type {act.keyId ? 'the key id and ' : ''}the token label.
      </p>
      <form
        onSubmit={(e) => {
          e.preventDefault();
          if (!busy && keyOk && labelOk) void provide({ kind: 'continue' });
        }}
      >
        {act.keyId && (
          <div className="field">
            <label htmlFor="confirm-key">Key id ({act.keyId})</label>
            <input id="confirm-key" ref={first} value={keyId} autoComplete="off" spellCheck={false} onChange={(e) => setKeyId(e.target.value)} aria-invalid={keyId && !keyOk ? true : undefined} />
          </div>
        )}
        <div className="field">
          <label htmlFor="confirm-token">Token label ({act.tokenLabel})</label>
          <input id="confirm-token" ref={act.keyId ? undefined : first} value={label} autoComplete="off" spellCheck={false} onChange={(e) => setLabel(e.target.value)} aria-invalid={label && !labelOk ? true : undefined} />
        </div>
        <div className="actions">
          <button type="submit" className={act.act === 'destroy' ? 'danger irreversible-button' : 'irreversible-button'} disabled={busy || !keyOk || !labelOk}>
            {busy ? 'Working…' : verb.replace('  ', ' ')}
          </button>
        </div>
      </form>
    </section>
  );
}
