import { Fragment, useEffect, useRef, useState } from 'react';
import { OpenPgpKeyField, rowKeyProblem, type RowKey } from './OpenPgpKeyField';
import type { StepProps } from './types';

interface Row {
  key: number;
  name: string;
  id: string;
  idEdited: boolean;
  roles: string[];
  /** A custodian's OpenPGP public key (optional): their share is then sealed to it, never shown. */
  openpgp: RowKey | null;
}

/** The role whose holders receive shares and so may bring an OpenPGP key. */
const CUSTODIAN = 'custodian';

export function slugify(name: string): string {
  return name
    .toLowerCase()
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 32);
}

/**
 * Participant check-in: one row per person, with the roles the script asks for. Rows start out
 * as the script's minimum for each role; Enter in a name moves to the next empty name, and on the
 * last one submits.
 */
export function CheckIn({ need, view, busy, provide }: StepProps<'participants'>): React.JSX.Element {
  const nextKey = useRef(0);
  const [rows, setRows] = useState<Row[]>(() => {
    if (view.participants.length > 0) {
      return view.participants.map((p) => ({ key: nextKey.current++, name: p.name, id: p.id, idEdited: true, roles: [...p.roles], openpgp: null }));
    }
    return need.roles.flatMap((r) => Array.from({ length: Math.max(r.min, 0) }, () => ({ key: nextKey.current++, name: '', id: '', idEdited: false, roles: [r.id], openpgp: null })));
  });
  const [problem, setProblem] = useState<string | null>(null);
  const nameRefs = useRef(new Map<number, HTMLInputElement>());
  const [focusRow, setFocusRow] = useState<number | null>(null);
  useEffect(() => {
    if (focusRow === null) return;
    nameRefs.current.get(focusRow)?.focus();
    setFocusRow(null);
  }, [focusRow]);
  const addRow = (roles: string[]) => {
    const key = nextKey.current++;
    setRows((rs) => [...rs, { key, name: '', id: '', idEdited: false, roles, openpgp: null }]);
    setFocusRow(key);
  };

  const update = (key: number, patch: Partial<Row>) => setRows((rs) => rs.map((r) => (r.key === key ? { ...r, ...patch } : r)));
  const counts = Object.fromEntries(need.roles.map((r) => [r.id, rows.filter((row) => row.roles.includes(r.id)).length]));

  const check = (): string | null => {
    const empty = rows.findIndex((r) => !r.name.trim());
    if (empty >= 0) return `Enter the name of person ${empty + 1}, or remove that row.`;
    const ids = rows.map((r) => r.id || slugify(r.name));
    const dup = ids.find((id, i) => ids.indexOf(id) !== i);
    if (dup) return `Two people have the id “${dup}”. Give one of them a different id.`;
    for (const r of need.roles) {
      if (counts[r.id] < r.min) return `${r.title} needs at least ${r.min} ${r.min === 1 ? 'person' : 'people'}; ${counts[r.id]} checked in.`;
      if (counts[r.id] > r.max) return `${r.title} allows at most ${r.max} ${r.max === 1 ? 'person' : 'people'}; ${counts[r.id]} checked in.`;
    }
    const noRole = rows.findIndex((r) => r.roles.length === 0);
    if (noRole >= 0) return `Give ${rows[noRole].name} at least one role.`;
    return null;
  };

  const submit = async () => {
    const p = check();
    setProblem(p);
    if (p) return;
    await provide({
      kind: 'participants',
      participants: rows.map((r) => {
        const base = { id: r.id || slugify(r.name), name: r.name.trim(), roles: r.roles };
        // Only a custodian's key is sent: a key left on a row whose custodian box was unticked is not.
        return r.openpgp && r.roles.includes(CUSTODIAN) ? { ...base, openpgpKey: r.openpgp.armored } : base;
      }),
    });
  };

  // A key the core refused at the last check-in attempt: shown on that person's row, the rest kept.
  const refused = (row: Row) => rowKeyProblem(view.lastError, { id: row.id || slugify(row.name), name: row.name.trim() });

  const onNameKey = (e: React.KeyboardEvent<HTMLInputElement>, index: number) => {
    if (e.key !== 'Enter') return;
    e.preventDefault();
    const next = rows.slice(index + 1).find((r) => !r.name.trim()) ?? rows.find((r) => !r.name.trim());
    if (next && next.key !== rows[index].key) nameRefs.current.get(next.key)?.focus();
    else void submit();
  };

  return (
    <form
      className="check-in"
      onSubmit={(e) => {
        e.preventDefault();
        void submit();
      }}
    >
      <h2>Check in the participants</h2>
      <ul className="role-counts">
        {need.roles.map((r) => {
          // The chip states the rule check-in enforces ("exactly 5", "1 to 3") and counts named people only.
          const named = rows.filter((row) => row.name.trim() && row.roles.includes(r.id)).length;
          return (
            <li key={r.id} className={named >= r.min && named <= r.max ? 'ok' : 'short'}>
              {r.title}: {named} checked in · needs {r.min === r.max ? `exactly ${r.min}` : `${r.min} to ${r.max}`}
            </li>
          );
        })}
      </ul>
      <table className="people">
        <thead>
          <tr>
            <th scope="col">#</th>
            <th scope="col">Name</th>
            <th scope="col">Id</th>
            <th scope="col">Roles</th>
            <th scope="col">
              <span className="visually-hidden">Remove</span>
            </th>
          </tr>
        </thead>
        <tbody>
          {rows.map((row, i) => (
            <Fragment key={row.key}>
            <tr className={row.roles.includes(CUSTODIAN) ? 'has-openpgp' : undefined}>
              <td>{i + 1}</td>
              <td>
                <input
                  aria-label={`Name of person ${i + 1}`}
                  ref={(el) => {
                    if (el) nameRefs.current.set(row.key, el);
                    else nameRefs.current.delete(row.key);
                  }}
                  autoFocus={i === 0}
                  value={row.name}
                  autoComplete="off"
                  onKeyDown={(e) => onNameKey(e, i)}
                  onChange={(e) => update(row.key, { name: e.target.value, id: row.idEdited ? row.id : slugify(e.target.value) })}
                />
              </td>
              <td>
                <input aria-label={`Id of person ${i + 1}`} className="short" value={row.id} autoComplete="off" onChange={(e) => update(row.key, { id: e.target.value, idEdited: true })} />
              </td>
              <td>
                <fieldset className="roles">
                  <legend className="visually-hidden">Roles of person {i + 1}</legend>
                  {need.roles.map((r) => (
                    <label key={r.id}>
                      <input
                        type="checkbox"
                        checked={row.roles.includes(r.id)}
                        onChange={(e) => update(row.key, { roles: e.target.checked ? [...row.roles, r.id] : row.roles.filter((x) => x !== r.id) })}
                      />
                      {r.title}
                    </label>
                  ))}
                </fieldset>
              </td>
              <td>
                <button type="button" className="secondary small" aria-label={`Remove person ${i + 1}`} onClick={() => setRows((rs) => rs.filter((r) => r.key !== row.key))}>
                  Remove
                </button>
              </td>
            </tr>
            {row.roles.includes(CUSTODIAN) && (
              // A custodian's own line under their row: the key, and any refusal of it, full width.
              <tr className="openpgp-row">
                <td />
                <td colSpan={4}>
                  <OpenPgpKeyField person={row.name.trim() || `person ${i + 1}`} value={row.openpgp} refused={refused(row)} disabled={busy} onChange={(k) => update(row.key, { openpgp: k })} />
                </td>
              </tr>
            )}
            </Fragment>
          ))}
        </tbody>
      </table>
      {problem && (
        <p className="form-problem" role="alert">
          {problem}
        </p>
      )}
      <div className="actions">
        {need.roles.map((r) => (
          <button key={r.id} type="button" className="secondary" disabled={counts[r.id] >= r.max} onClick={() => addRow([r.id])}>
            Add a {r.title.toLowerCase()}
          </button>
        ))}
        <button type="submit" disabled={busy}>
          Check in {rows.length} {rows.length === 1 ? 'person' : 'people'}
        </button>
      </div>
    </form>
  );
}
