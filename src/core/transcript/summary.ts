import type { LayoutEvent } from './layout-event';

/** What a transcript says about its ceremony, read from the events (for verify and the HTML). */
export interface ParticipantSummary {
  personId: string;
  name: string;
  roles: string[];
  checkedInAt: string;
}

export interface KeySummary {
  keyId: string;
  label: string | null;
  type: string | null;
  spkiSha256: string | null;
  /** The event that brought the key into being: KEY_GENERATED or KEY_RESTORED. */
  event: string;
  seq: number;
}

export interface StepInfo {
  id: string;
  title: string;
  say: string;
  /** From the step's own events: completed (STEP_COMPLETED), skipped (its when: was false), aborted (CEREMONY_ABORTED in it). */
  status: StepOutcome;
}

export type StepOutcome = 'completed' | 'skipped' | 'aborted' | 'not completed' | 'not reached';

export interface TranscriptSummary {
  ceremony: string;
  title: string;
  scriptId: string | null;
  scriptVersion: string | null;
  scriptSha256: string | null;
  appVersion: string | null;
  demo: boolean;
  startedAt: string;
  endedAt: string;
  outcome: 'sealed' | 'aborted' | 'open';
  participants: ParticipantSummary[];
  keys: KeySummary[];
  steps: StepInfo[];
  /** Steps completed (including those skipped by a false when:), for "n of m steps done". */
  stepsCompleted: number;
  transcriptKey: { seq: number; label: string | null; spkiSha256: string | null; spkiPem: string | null; tokenLabel: string | null; tokenSerial: string | null } | null;
}

const str = (v: unknown): string | null => (typeof v === 'string' ? v : typeof v === 'number' ? String(v) : null);

export function summarizeTranscript(events: readonly LayoutEvent[]): TranscriptSummary {
  const first = events[0];
  const last = events[events.length - 1];
  const started = events.find((e) => e.type === 'CEREMONY_STARTED');
  const d = started?.data ?? {};
  const participants = new Map<string, ParticipantSummary>();
  const keys: KeySummary[] = [];
  let transcriptKey: TranscriptSummary['transcriptKey'] = null;
  for (const e of events) {
    if (e.type === 'PARTICIPANT_CHECKED_IN') {
      const personId = str(e.data.personId) ?? str(e.actor) ?? `#${e.seq}`;
      const roles = Array.isArray(e.data.roles) ? e.data.roles.map((r) => String(r)) : [];
      const before = participants.get(personId);
      // A resumed ceremony may check someone in again: keep the first time, merge the roles.
      participants.set(personId, {
        personId,
        name: str(e.data.name) ?? personId,
        roles: before ? [...new Set([...before.roles, ...roles])] : roles,
        checkedInAt: before?.checkedInAt ?? e.at,
      });
    } else if (e.type === 'KEY_GENERATED' || e.type === 'KEY_RESTORED') {
      keys.push({ keyId: str(e.data.keyId) ?? str(e.data.label) ?? `#${e.seq}`, label: str(e.data.label), type: str(e.data.type), spkiSha256: str(e.data.spkiSha256), event: e.type, seq: e.seq });
    } else if (e.type === 'TRANSCRIPT_KEY_CREATED' && !transcriptKey) {
      transcriptKey = { seq: e.seq, label: str(e.data.label), spkiSha256: str(e.data.spkiSha256), spkiPem: str(e.data.spkiPem), tokenLabel: str(e.data.tokenLabel), tokenSerial: str(e.data.tokenSerial) };
    }
  }
  // Each step's own events, gathered once: asking every step of all the events was quadratic.
  const byStep = new Map<string, LayoutEvent[]>();
  if (Array.isArray(d.steps)) {
    for (const e of events) {
      if (e.step === null) continue;
      const own = byStep.get(e.step);
      if (own) own.push(e);
      else byStep.set(e.step, [e]);
    }
  }
  const steps: StepInfo[] = Array.isArray(d.steps)
    ? d.steps.filter((s): s is Record<string, unknown> => s !== null && typeof s === 'object').map((s) => {
        const id = str(s.id) ?? '';
        return { id, title: str(s.title) ?? str(s.id) ?? '', say: str(s.say) ?? '', status: stepOutcome(byStep.get(id) ?? [], id) };
      })
    : [];
  return {
    ceremony: first?.ceremony ?? '',
    title: str(d.title) ?? first?.ceremony ?? '',
    scriptId: str(d.scriptId),
    scriptVersion: str(d.scriptVersion),
    scriptSha256: str(d.scriptSha256),
    appVersion: str(d.appVersion),
    demo: d.demo === true || d.demoToken === true,
    startedAt: first?.at ?? '',
    endedAt: last?.at ?? '',
    outcome: events.some((e) => e.type === 'CEREMONY_ABORTED') ? 'aborted' : last?.type === 'CEREMONY_SEALED' ? 'sealed' : 'open',
    participants: [...participants.values()],
    keys,
    steps,
    stepsCompleted: steps.filter((st) => st.status === 'completed' || st.status === 'skipped').length,
    transcriptKey,
  };
}

/** What the events filed under a step say happened to it. */
export function stepOutcome(events: readonly LayoutEvent[], stepId: string): StepOutcome {
  const own = events.filter((e) => e.step === stepId);
  const completed = own.find((e) => e.type === 'STEP_COMPLETED');
  if (completed) return (completed.data.evidence as { skipped?: unknown } | undefined)?.skipped === true ? 'skipped' : 'completed';
  // Sealing ends the chain, so the seal step has no STEP_COMPLETED: CEREMONY_SEALED completes it.
  if (own.some((e) => e.type === 'CEREMONY_SEALED')) return 'completed';
  if (own.some((e) => e.type === 'CEREMONY_ABORTED')) return 'aborted';
  return own.length > 0 ? 'not completed' : 'not reached';
}
