import { useEffect, useRef, useState } from 'react';
import { SERIAL_HINT, SERIAL_PATTERN } from '../../../shared/serial-rule';
import type { StepProps } from './types';

const PATTERNS: Record<string, { pattern: RegExp; hint: string }> = {
  sha256: { pattern: /^[0-9a-fA-F]{64}$/, hint: '64 hexadecimal characters' },
  serial: { pattern: SERIAL_PATTERN, hint: SERIAL_HINT },
};

type BagRow = { shareIndex: number; custodian: string; custodianId: string | null };

/** What is wrong with one bag row as typed (the core checks again and names the row it refuses). */
function bagProblem(rows: BagRow[], typed: Record<number, string>, row: BagRow): string | null {
  const v = (typed[row.shareIndex] ?? '').trim();
  if (!v) return null;
  if (!SERIAL_PATTERN.test(v)) return `A bag serial is ${SERIAL_HINT}.`;
  const same = rows.find((r) => r.shareIndex < row.shareIndex && (typed[r.shareIndex] ?? '').trim().toUpperCase() === v.toUpperCase());
  return same ? `Same bag as share ${same.shareIndex} (${same.custodian}): every share has its own bag.` : null;
}

/** Typed facts for the transcript: bag serials per share, media hashes, hand-offs of physical items. */
export function Statement({ need, view, busy, provide }: StepProps<'statement'>): React.JSX.Element {
  const [values, setValues] = useState<Record<string, string>>(() => Object.fromEntries(need.fields.map((f) => [f.id, ''])));
  const [bags, setBags] = useState<Record<number, string>>({});
  const [problem, setProblem] = useState<string | null>(null);
  const inputs = useRef(new Map<number, HTMLInputElement>());
  const [focusRow, setFocusRow] = useState<number | null>(null);
  useEffect(() => {
    if (focusRow !== null) inputs.current.get(focusRow)?.focus();
  }, [focusRow]);
  /**
   * A space, comma or semicolon ends a serial: what follows goes to the next rows (a list read
   * out or pasted, or a scanner that ends each serial with a space), and focus follows it.
   */
  const typeBag = (rows: BagRow[], j: number, value: string) => {
    if (!/[\s,;]/.test(value)) return setBags({ ...bags, [rows[j].shareIndex]: value });
    const next = { ...bags };
    let k = j;
    value.split(/[\s,;]+/).forEach((piece, n) => {
      if (n > 0) k++;
      if (k < rows.length) next[rows[k].shareIndex] = piece;
    });
    setBags(next);
    setFocusRow(rows[Math.min(k, rows.length - 1)].shareIndex);
  };
  // The row the core refused (details.row is its share index), marked until it is retyped.
  const refusedRow = typeof view.lastError?.details?.row === 'number' ? view.lastError.details.row : null;
  const [retyped, setRetyped] = useState<{ code: string; row: number } | null>(null);
  const markedRow = refusedRow !== null && !(retyped?.row === refusedRow && retyped.code === view.lastError?.message) ? refusedRow : null;

  const submit = () => {
    const out: Record<string, string> = {};
    for (const f of need.fields) {
      if (f.kind === 'bags' && f.rows) {
        const bad = f.rows.map((r) => [r, bagProblem(f.rows!, bags, r)] as const).find(([, p]) => p);
        if (bad) return setProblem(`Share ${bad[0].shareIndex} (${bad[0].custodian}): ${bad[1]}`);
        const missing = f.rows.find((r) => !(bags[r.shareIndex] ?? '').trim());
        if (missing) return setProblem(`Type the bag serial for share ${missing.shareIndex} (${missing.custodian}).`);
        out[f.id] = f.rows.map((r) => bags[r.shareIndex].trim()).join(' ');
        continue;
      }
      const v = (values[f.id] ?? '').trim();
      if (f.required && !v) return setProblem(`Fill in “${f.label}”.`);
      const rule = PATTERNS[f.kind];
      if (v && rule && !rule.pattern.test(v)) return setProblem(`“${f.label}” must be ${rule.hint}.`);
      if (v) out[f.id] = v;
    }
    setProblem(null);
    void provide({ kind: 'statement', values: out });
  };
  return (
    <form className="statement" onSubmit={(e) => { e.preventDefault(); submit(); }}>
      <h2>Record</h2>
      {need.fields.map((f, i) =>
        f.kind === 'bags' && f.rows ? (
          <fieldset className="bag-rows" key={f.id}>
            <legend>
              {f.label}: one bag per share ({f.rows.length})
            </legend>
            <table>
              <thead>
                <tr>
                  <th scope="col">Share</th>
                  <th scope="col">Custodian</th>
                  <th scope="col">Bag serial</th>
                </tr>
              </thead>
              <tbody>
                {f.rows.map((r, j) => {
                  const live = bagProblem(f.rows!, bags, r);
                  const marked = markedRow === r.shareIndex;
                  return (
                    <tr key={r.shareIndex} className={marked || live ? 'bag-row bad' : 'bag-row'} data-share={r.shareIndex}>
                      <td>
                        {r.shareIndex} of {f.rows!.length}
                      </td>
                      <td>{r.custodian}</td>
                      <td>
                        <input
                          id={`bag-${r.shareIndex}`}
                          aria-label={`Bag serial for share ${r.shareIndex} (${r.custodian})`}
                          aria-invalid={marked || live ? true : undefined}
                          autoFocus={i === 0 && j === 0}
                          value={bags[r.shareIndex] ?? ''}
                          autoComplete="off"
                          spellCheck={false}
                          ref={(el) => {
                            if (el) inputs.current.set(r.shareIndex, el);
                            else inputs.current.delete(r.shareIndex);
                          }}
                          onChange={(e) => {
                            typeBag(f.rows!, j, e.target.value);
                            if (marked && view.lastError) setRetyped({ code: view.lastError.message, row: r.shareIndex });
                          }}
                        />
                        {live && <span className="inline-error">{live}</span>}
                        {marked && !live && <span className="inline-error">Refused: see the message above.</span>}
                      </td>
                    </tr>
                  );
                })}
              </tbody>
            </table>
          </fieldset>
        ) : (
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
        ),
      )}
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
