import type { TranscriptEvent } from '../../src/core/transcript';

/**
 * Replays a transcript and says where an event is not filed under the step that was running
 * when it happened. The running step is read from the events themselves (STEP_STARTED, in the
 * script's order from CEREMONY_STARTED), not from the runner, so the check cannot share its bug.
 */
export function misfiledEvents(events: readonly Pick<TranscriptEvent, 'seq' | 'step' | 'type' | 'data'>[]): string[] {
  const problems: string[] = [];
  const started = events[0];
  if (started?.type !== 'CEREMONY_STARTED') return ['the transcript does not begin with CEREMONY_STARTED'];
  const order = (started.data.steps as Array<{ id: string }>).map((s) => s.id);
  if (started.step !== null && started.step !== order[0]) problems.push(`#${started.seq} CEREMONY_STARTED is filed under '${started.step}'`);
  let running: string | null = null;
  let next = 0;
  let completed = false;
  for (const e of events.slice(1)) {
    if (e.type === 'STEP_STARTED') {
      if (running !== null && !completed) problems.push(`#${e.seq} step '${String(e.data.id)}' started before '${running}' completed`);
      if (e.data.id !== order[next]) problems.push(`#${e.seq} step '${String(e.data.id)}' started where the script has '${order[next]}'`);
      running = String(e.data.id);
      next = order.indexOf(running) + 1;
      completed = false;
    } else if (running === null) {
      problems.push(`#${e.seq} ${e.type} happened before any step started`);
      continue;
    } else if (completed) {
      problems.push(`#${e.seq} ${e.type} happened after step '${running}' completed and before the next started`);
    }
    if (e.step !== running) problems.push(`#${e.seq} ${e.type} is filed under '${e.step}' but happened in '${running}'`);
    if (e.type === 'STEP_COMPLETED') {
      if (e.data.index !== order.indexOf(running)) problems.push(`#${e.seq} STEP_COMPLETED of '${running}' says index ${String(e.data.index)}`);
      completed = true;
    }
  }
  return problems;
}
