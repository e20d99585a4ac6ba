import type { JobProgress, JobStatus, RunView } from '@farm/contracts';
import { useEffect, useState } from 'react';
import { follow } from './api';

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
    const close = follow<{ progress: Counts; runs: { runs: RunView[] }; finished: Counts }>(
      `/jobs/${jobId}/events`,
      {
        progress: (data) => setLive((job) => withCounts(job, data)),
        runs: (data) => setLive((job) => job && { ...job, runs: new Map([...job.runs, ...data.runs.map((r) => [r.id, r] as const)]) }),
        finished: (data) => {
          close();
          setLive((job) => ({ ...withCounts(job, data), finished: true }));
        },
      },
      // The stream ends after `finished`; any other end is a failure worth showing.
      () => setError('The live updates stopped; reload the page to resume them.'),
    );
    return close;
  }, [jobId]);
  return { live, error };
}
