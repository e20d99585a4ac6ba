import type { MessageEvent } from '@nestjs/common';
import type { JobEvent, JobView, RunView } from '@farm/contracts';

const sameRun = (a: RunView, b: RunView): boolean =>
  a.status === b.status && a.result === b.result && a.attempt === b.attempt && a.errorKind === b.errorKind;

/**
 * What a client that last saw `previous` (nothing, on connecting) must be told about `next`:
 * the progress when it moved, the runs whose status, result or attempt changed, and
 * `finished` once the job has ended.
 */
export function jobEvents(previous: JobView | undefined, next: JobView): JobEvent[] {
  const events: JobEvent[] = [];
  const { id, status, progress, startedAt, finishedAt } = next;
  if (!previous || previous.status !== status || JSON.stringify(previous.progress) !== JSON.stringify(progress)) {
    events.push({ type: 'progress', data: { id, status, progress, startedAt, finishedAt } });
  }
  const before = new Map((previous?.runs ?? []).map((run) => [run.id, run]));
  const changed = (next.runs ?? []).filter((run) => {
    const old = before.get(run.id);
    return !old || !sameRun(old, run);
  });
  if (changed.length > 0) events.push({ type: 'runs', data: { runs: changed } });
  if (finishedAt) events.push({ type: 'finished', data: { id, status, progress, finishedAt } });
  return events;
}

/** A named event as Nest's @Sse sends it. */
export function toMessageEvent(event: { type: string; data: object }): MessageEvent {
  return { type: event.type, data: event.data };
}
