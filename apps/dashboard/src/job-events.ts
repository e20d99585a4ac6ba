import type { JobProgress, JobStatus, RunView } from '@farm/contracts';
import { useEffect, useState } from 'react';

export interface LiveJob {
  status: JobStatus;
  progress: JobProgress;
  startedAt: string | null;
  finishedAt: string | null;
  runs: ReadonlyMap<string, RunView>;
  /** Set once the API has said `finished`: the stream is closed and the figures are final. */
  finished: boolean;
}

/**
 * The job as the API pushes it through `/api/jobs/:id/events`: its first events give the whole
 * job, later ones what changed, the last one `finished`.
 */
export function useJobEvents(jobId: string): { live: LiveJob | undefined; error: string | undefined } {
  const [live, setLive] = useState<LiveJob>();
  const [error, setError] = useState<string>();
  useEffect(() => {
    const source = new EventSource(`/api/jobs/${jobId}/events`);
    const on = <T,>(type: string, apply: (job: LiveJob | undefined, data: T) => LiveJob | undefined): void =>
      source.addEventListener(type, (event: MessageEvent<string>) => {
        const data = JSON.parse(event.data) as T;
        setLive((job) => apply(job, data));
      });
    type Counts = Pick<LiveJob, 'status' | 'progress' | 'finishedAt'> & { startedAt?: string | null };
    const withCounts = (job: LiveJob | undefined, data: Counts): LiveJob => ({
      runs: new Map(),
      finished: false,
      ...job,
      status: data.status,
      progress: data.progress,
      startedAt: data.startedAt ?? job?.startedAt ?? null,
      finishedAt: data.finishedAt,
    });
    on<Counts>('progress', withCounts);
    on<{ runs: RunView[] }>('runs', (job, data) => job && { ...job, runs: new Map([...job.runs, ...data.runs.map((r) => [r.id, r] as const)]) });
    on<Counts>('finished', (job, data) => {
      source.close();
      return { ...withCounts(job, data), finished: true };
    });
    source.onerror = () => {
      // The stream ends after `finished`; any other end is a failure worth showing.
      if (source.readyState === EventSource.CLOSED) setError('The live updates stopped; reload the page to resume them.');
    };
    return () => source.close();
  }, [jobId]);
  return { live, error };
}
