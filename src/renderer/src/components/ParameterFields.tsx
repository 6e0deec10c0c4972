import type { ParameterFieldData, ParameterFormData } from '../../../shared/ipc-contract';

export type ParamInput = string | number | boolean;

/** Parameters the page does not show as fields: the drill-only shares file (terminal only) and the backup file (its own field). */
export const HIDDEN_PARAMETERS = new Set(['drillSharesFile', 'backupFile']);

const LABELS: Record<string, string> = {
  keyType: 'Key type',
  threshold: 'Shares needed (m)',
  count: 'Shares made (n)',
  subject: 'Certificate subject',
  days: 'Validity (days)',
  trustedKek: 'Trusted KEK',
};

export function parameterLabel(f: Pick<ParameterFieldData, 'name'>): string {
  return LABELS[f.name] ?? f.name.replace(/([A-Z])/g, ' $1').replace(/^./, (c) => c.toUpperCase());
}

interface Props {
  form: ParameterFormData;
  /** What the administrator typed, by name; a name absent here shows the form's value. */
  edited: Record<string, ParamInput>;
  onChange: (name: string, value: ParamInput) => void;
}

/**
 * One field per script parameter, with the control its type needs, its limits (script and key
 * policy together, as the core computes them) beside it, and the core's problems on it. Nothing
 * here decides what is valid: every keystroke is checked by the core over IPC.
 */
export function ParameterFields({ form, edited, onChange }: Props): React.JSX.Element {
  const shown = form.fields.filter((f) => !HIDDEN_PARAMETERS.has(f.name));
  return (
    <fieldset className="parameters">
      <legend>
        <h2>Parameters</h2>
      </legend>
      <p className="hint">Recorded in the transcript as shown. “From the script” marks a script default: read each value aloud before you start.</p>
      {shown.map((f) => (
        <Field key={f.name} field={f} value={edited[f.name] ?? f.value ?? ''} edited={f.name in edited} onChange={(v) => onChange(f.name, v)} />
      ))}
      {form.profiles.length > 0 && (
        <div className="field parameter profiles">
          <span className="label">Certificate profiles (fixed by the script)</span>
          <ul>
            {form.profiles.map((u) => (
              <li key={u.step} data-profile={u.profile}>
                {u.step}: <code>{u.profile}</code>
                {u.purpose ? ` · ${u.purpose}` : ''}
                {u.summary ? ` · ${u.summary}` : ''}
              </li>
            ))}
          </ul>
        </div>
      )}
      {form.problems.length > 0 && (
        <ul className="form-problem parameter-problems" role="alert">
          {form.problems.map((p, i) => (
            <li key={i} data-code={p.code}>
              {p.message}
            </li>
          ))}
        </ul>
      )}
      {form.warnings.length > 0 && (
        <ul className="warn-box parameter-warnings">
          {form.warnings.map((w, i) => (
            <li key={i}>Policy warning: {w}</li>
          ))}
        </ul>
      )}
    </fieldset>
  );
}

function Field({ field: f, value, edited, onChange }: { field: ParameterFieldData; value: ParamInput; edited: boolean; onChange: (v: ParamInput) => void }): React.JSX.Element {
  const id = `param-${f.name}`;
  const label = parameterLabel(f);
  const bad = f.problems.length > 0;
  const describedBy = `${id}-limits ${id}-problems`;
  const common = { id, 'aria-invalid': bad, 'aria-describedby': describedBy, className: bad ? 'invalid' : undefined };
  let control: React.JSX.Element;
  switch (f.type) {
    case 'keyType': {
      const options = f.options ?? [];
      const current = String(value);
      control = (
        <select {...common} value={current} onChange={(e) => onChange(e.target.value)}>
          {!options.includes(current) && <option value={current}>{current || '(choose)'} — not allowed</option>}
          {options.map((o) => (
            <option key={o} value={o}>
              {o}
            </option>
          ))}
        </select>
      );
      break;
    }
    case 'integer':
      control = <input {...common} type="number" inputMode="numeric" min={f.min} max={f.max} step={1} value={String(value)} onChange={(e) => onChange(e.target.value)} />;
      break;
    case 'boolean':
      control = <input {...common} type="checkbox" checked={value === true || value === 'true'} onChange={(e) => onChange(e.target.checked)} />;
      break;
    default:
      control = <input {...common} value={String(value)} spellCheck={false} autoComplete="off" placeholder={f.type === 'subject' ? 'CN=Example Root CA, O=Example, C=NL' : undefined} onChange={(e) => onChange(e.target.value)} />;
  }
  return (
    <div className={`field parameter${bad ? ' has-problem' : ''}`} data-parameter={f.name}>
      <label htmlFor={id}>
        {label}
        {f.optional && <span className="optional"> (optional)</span>}
        {!edited && f.source === 'default' && <span className="source"> · from the script</span>}
        {!edited && f.source === 'demo' && <span className="source demo"> · rehearsal value</span>}
        {f.limits && <span className="description"> — {f.description}</span>}
      </label>
      <div className="parameter-row">
        {control}
        <span className="limits" id={`${id}-limits`}>
          {f.limits ?? f.description}
        </span>
      </div>
      {f.type === 'subject' && f.rdns && (
        <ol className="rdns" aria-label="Subject as the certificate will hold it">
          {f.rdns.map((rdn, i) => (
            <li key={i}>
              {rdn.map((a) => (
                <span key={a.type} className="rdn">
                  <b>{a.type}</b> = {a.value}
                </span>
              ))}
            </li>
          ))}
        </ol>
      )}
      <div id={`${id}-problems`} className="field-problems">
        {f.problems.map((p, i) => (
          <p key={i} className="inline-error" data-code={p.code}>
            {p.message}
          </p>
        ))}
      </div>
    </div>
  );
}
