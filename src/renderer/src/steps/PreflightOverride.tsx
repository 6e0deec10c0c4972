import { useState } from 'react';
import { submitOnCtrlEnter } from '../app/keys';
import type { StepProps } from './types';

/** A network interface is up: the ceremony stops unless someone overrides it, with a reason. */
export function PreflightOverride({ need, view, busy, provide }: StepProps<'preflightOverride'>): React.JSX.Element {
  const [reason, setReason] = useState('');
  const [personId, setPersonId] = useState((view.participants.find((p) => p.roles.includes('admin')) ?? view.participants[0])?.id ?? '');
  return (
    <form className="preflight-override" onSubmit={(e) => { e.preventDefault(); if (reason.trim() && personId) void provide({ kind: 'preflightOverride', reason, personId }); }}>
      <h2>Network interface up</h2>
      <p className="need-message warn-box">{need.message}</p>
      <ul className="interfaces">
        {need.interfaces.map((i) => (
          <li key={i}>
            <code>{i}</code>
          </li>
        ))}
      </ul>
      <p>Disconnect the machine (unplug the cable, turn off Wi-Fi) and restart Keyrite, or record why the ceremony continues anyway. The override goes into the transcript.</p>
      <div className="field">
        <label htmlFor="override-reason">Reason for continuing</label>
        <textarea id="override-reason" autoFocus rows={3} value={reason} onChange={(e) => setReason(e.target.value)} onKeyDown={submitOnCtrlEnter} />
        <p className="hint">Ctrl+Enter records the override.</p>
      </div>
      {view.participants.length > 0 && (
        <div className="field">
          <label htmlFor="override-person">Who decides</label>
          <select id="override-person" value={personId} onChange={(e) => setPersonId(e.target.value)}>
            {view.participants.map((p) => (
              <option key={p.id} value={p.id}>
                {p.name}
              </option>
            ))}
          </select>
        </div>
      )}
      {view.participants.length === 0 && (
        <div className="field">
          <label htmlFor="override-person-id">Your id (e.g. admin)</label>
          <input id="override-person-id" value={personId} onChange={(e) => setPersonId(e.target.value)} />
        </div>
      )}
      <div className="actions">
        <button type="submit" disabled={busy || !reason.trim() || !personId}>
          Override and continue
        </button>
      </div>
    </form>
  );
}
