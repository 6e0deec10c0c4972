import { useEffect, useId, useRef, useState } from 'react';
import { asApiError, call, keyrite } from '../app/api';
import type { CeremonyViewData } from '../../../shared/ipc-contract';

/** A public key on a check-in row, and where it came from (a file name, or "pasted"). */
export interface RowKey {
  armored: string;
  source: string;
}

type Problem = { code: string; message: string };

const BEGIN = '-----BEGIN PGP PUBLIC KEY BLOCK-----';

/**
 * The refusal of the last check-in attempt, if it concerns this person's key: the core names the
 * custodian (id or name) in the details, or at least in its sentence ("Cora presented the same key
 * as Carl" concerns both rows).
 */
export function rowKeyProblem(error: CeremonyViewData['lastError'], person: { id: string; name: string }): Problem | null {
  if (!error || !error.code.startsWith('OPENPGP_') || !person.name) return null;
  const d = error.details ?? {};
  const named = [d.personId, d.custodian, d.person, d.name, d.otherCustodian].filter((x): x is string => typeof x === 'string');
  if (named.length > 0 ? named.some((n) => n === person.id || n === person.name) : error.message.includes(person.name)) {
    return { code: error.code, message: error.message };
  }
  return null;
}

/**
 * "OpenPGP key" on a custodian's check-in row: choose an armored .asc file (main's file dialog
 * reads it; the renderer never touches the disk), or paste it. Only a quick shape check happens
 * here; the core decides (weak, expired, no encryption subkey, one key for two custodians) and its
 * refusal is shown on this row.
 */
export function OpenPgpKeyField({ person, value, refused, disabled, onChange }: { person: string; value: RowKey | null; refused: Problem | null; disabled: boolean; onChange: (k: RowKey | null) => void }): React.JSX.Element {
  const id = useId();
  const [pasting, setPasting] = useState(false);
  const [pasted, setPasted] = useState('');
  const [problem, setProblem] = useState<Problem | null>(null);
  const [picking, setPicking] = useState(false);
  const shown = problem ?? (value ? refused : null);
  // Keyboard users keep their place: once a key is in, focus moves to its "Remove key" button.
  const removeRef = useRef<HTMLButtonElement>(null);
  const hadKey = useRef(value !== null);
  useEffect(() => {
    if (value && !hadKey.current) removeRef.current?.focus();
    hadKey.current = value !== null;
  }, [value]);

  const choose = async () => {
    setPicking(true);
    setProblem(null);
    try {
      const r = await call(keyrite().openpgp.readKeyFile());
      if (r.path && r.armored) onChange({ armored: r.armored, source: r.path.split(/[\\/]/).pop() ?? r.path });
    } catch (e) {
      const err = asApiError(e);
      setProblem({ code: err.code, message: err.message });
    } finally {
      setPicking(false);
    }
  };
  const usePasted = () => {
    const text = pasted.trim();
    if (!text.includes(BEGIN)) {
      setProblem({ code: 'OPENPGP_KEY_INVALID', message: `That is not an armored OpenPGP public key: it must start with "${BEGIN}". Export it with gpg --export --armor KEYID.` });
      return;
    }
    setProblem(null);
    onChange({ armored: text, source: 'pasted' });
    setPasting(false);
    setPasted('');
  };

  return (
    <div className={`openpgp-key${shown ? ' refused' : ''}`} data-person={person}>
      {value ? (
        <p className="openpgp-loaded">
          <span className="openpgp-label">OpenPGP key:</span> from <strong>{value.source}</strong> — the share will be sealed to it
          <button ref={removeRef} type="button" className="secondary small" aria-label={`Remove the OpenPGP key of ${person}`} disabled={disabled} onClick={() => { onChange(null); setProblem(null); }}>
            Remove key
          </button>
        </p>
      ) : pasting ? (
        <div className="openpgp-paste">
          <label htmlFor={id} className="visually-hidden">
            Paste the OpenPGP public key of {person}
          </label>
          <textarea id={id} rows={4} autoFocus value={pasted} spellCheck={false} placeholder={BEGIN} onChange={(e) => setPasted(e.target.value)} />
          <div className="actions compact">
            <button type="button" className="small" disabled={disabled || !pasted.trim()} onClick={usePasted}>
              Use this key
            </button>
            <button type="button" className="secondary small" onClick={() => { setPasting(false); setPasted(''); setProblem(null); }}>
              Cancel
            </button>
          </div>
        </div>
      ) : (
        <div className="actions compact">
          <span className="openpgp-label">OpenPGP key (optional):</span>
          <button type="button" className="secondary small" aria-label={`Choose the OpenPGP key file of ${person}`} disabled={disabled || picking} onClick={() => void choose()}>
            {picking ? 'Choosing…' : 'Key file…'}
          </button>
          <button type="button" className="secondary small" aria-label={`Paste the OpenPGP key of ${person}`} disabled={disabled} onClick={() => setPasting(true)}>
            Paste
          </button>
        </div>
      )}
      {shown && (
        <p className="row-problem" role="alert" data-code={shown.code}>
          {shown.message}
        </p>
      )}
    </div>
  );
}
