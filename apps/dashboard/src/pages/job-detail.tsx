import type { DeviceView, JobSummary, JobView, StudyAnswer } from '@farm/contracts';
import { useEffect, useState } from 'react';
import { api, errorText } from '../api';
import { ProgressBar } from '../components/progress';
import { RunGridTable } from '../components/run-grid';
import { StudyTable } from '../components/study-table';
import { SummaryCharts } from '../components/summary-charts';
import { useJobEvents } from '../job-events';
import { useApi } from '../use-api';
import { formatTime } from '../view';

export function JobDetailPage({ jobId }: { jobId: string }) {
  // The runs come with the live events' first batch: read once, not twice.
  const job = useApi<JobView>(`/jobs/${jobId}?runs=false`);
  const devices = useApi<DeviceView[]>('/devices');
  const { live, error: liveError } = useJobEvents(jobId);
  const summary = useApi<JobSummary>(`/jobs/${jobId}/summary`);
  const study = useApi<StudyAnswer>(`/jobs/${jobId}/study`);
  const [cancelError, setCancelError] = useState<string>();

  // The figures are read again once a job seen running has ended: its last runs are in them
  // then. A job that had ended when the page opened is read once.
  const endedSinceRead = live?.finished === true && job.data !== undefined && job.data.finishedAt === null;
  const { reload: reloadSummary } = summary;
  const { reload: reloadStudy } = study;
  useEffect(() => {
    if (!endedSinceRead) return;
    reloadSummary();
    reloadStudy();
  }, [endedSinceRead, reloadSummary, reloadStudy]);

  const cancel = async (): Promise<void> => {
    try {
      await api(`/jobs/${jobId}/cancel`, { method: 'POST' });
      setCancelError(undefined);
    } catch (failure) {
      setCancelError(errorText(failure));
    }
  };

  if (job.error) return <p className="error">{job.error}</p>;
  if (!job.data) return <p>Loading…</p>;
  const status = live?.status ?? job.data.status;
  const progress = live?.progress ?? job.data.progress;
  const runs = live ? [...live.runs.values()] : [];
  return (
    <>
      <h1>{job.data.name}</h1>
      <div className="toolbar">
        <span>
          Status: <strong data-testid="job-status">{status}</strong>
        </span>
        <span aria-live="polite" data-testid="job-progress">
          <ProgressBar progress={progress} label="Job progress" />
        </span>
        <span>
          passed {progress.passed}, failed {progress.failed}, errored {progress.errored}, cancelled {progress.cancelled}, timed out {progress.timedOut},
          running {progress.running}, queued {progress.queued}
        </span>
        <button type="button" onClick={() => void cancel()} disabled={status === 'cancelled' || Boolean(live?.finishedAt ?? job.data.finishedAt)}>
          Cancel job
        </button>
        <a href={`/api/jobs/${jobId}/measurements.csv`} download>
          Download measurements (CSV)
        </a>
      </div>
      <p>
        Created {formatTime(job.data.createdAt)}, started {formatTime(live?.startedAt ?? job.data.startedAt)}, finished {formatTime(live?.finishedAt ?? job.data.finishedAt)}
      </p>
      {cancelError && <p className="error" role="alert">{cancelError}</p>}
      {liveError && <p className="error" role="alert">{liveError}</p>}

      <h2>Runs</h2>
      <RunGridTable runs={runs} devices={devices.data ?? []} />

      <h2>Summary</h2>
      {summary.error && <p className="error">{summary.error}</p>}
      {summary.data && <SummaryCharts groups={summary.data.groups} />}

      <h2>On-device versus cloud</h2>
      {study.error && <p className="error">{study.error}</p>}
      {study.data && <StudyTable study={study.data} />}
    </>
  );
}
