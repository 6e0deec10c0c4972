import { useState } from 'react';
import type { StepProps } from './types';

const PATTERNS: Record<string, { pattern: RegExp; hint: string }> = {
  sha256: { pattern: /^[0-9a-fA-F]{64}$/, hint: '64 hexadecimal characters' },
  serial: { pattern: /^[\w./:-]{1,64}$/, hint: 'letters, digits and - . / : only' },
};

/** Typed facts for the transcript: bag serials, media hashes, hand-offs of physical items. */
export function Statement({ need, view, busy, provide }: StepProps<'statement'>): React.JSX.Element {
  const [values, setValues] = useState<Record<string, string>>(() => Object.fromEntries(need.fields.map((f) => [f.id, ''])));
  const [problem, setProblem] = useState<string | null>(null);
  const submit = () => {
    for (const f of need.fields) {
      const v = (values[f.id] ?? '').trim();
      if (f.required && !v) return setProblem(`Fill in “${f.label}”.`);
      const rule = PATTERNS[f.kind];
      if (v && rule && !rule.pattern.test(v)) return setProblem(`“${f.label}” must be ${rule.hint}.`);
    }
    setProblem(null);
    void provide({ kind: 'statement', values: Object.fromEntries(Object.entries(values).map(([k, v]) => [k, v.trim()]).filter(([, v]) => v)) });
  };
  return (
    <form className="statement" onSubmit={(e) => { e.preventDefault(); submit(); }}>
      <h2>Record</h2>
      {need.fields.map((f, i) => (
        <div className="field" key={f.id}>
          <label htmlFor={`st-${f.id}`}>
            {f.label}
            {!f.required && <span className="optional"> (optional)</span>}
          </label>
          {f.kind === 'person' ? (
            <select id={`st-${f.id}`} autoFocus={i === 0} value={values[f.id]} onChange={(e) => setValues({ ...values, [f.id]: e.target.value })}>
              <option value="">Choose a person…</option>
              {view.participants.map((p) => (
                <option key={p.id} value={p.id}>
                  {p.name}
                </option>
              ))}
            </select>
          ) : (
            <input id={`st-${f.id}`} autoFocus={i === 0} value={values[f.id]} autoComplete="off" spellCheck={false} onChange={(e) => setValues({ ...values, [f.id]: e.target.value })} />
          )}
        </div>
      ))}
      {problem && (
        <p className="form-problem" role="alert">
          {problem}
        </p>
      )}
      <div className="actions">
        <button type="submit" disabled={busy}>
          Record
        </button>
      </div>
    </form>
  );
}
