import { JOB_STATUSES, type JobStatus, type JobView, type Page } from '@farm/contracts';
import { useState } from 'react';
import { NewJobForm } from '../components/new-job-form';
import { ProgressBar } from '../components/progress';
import { Link, navigate } from '../router';
import { useFarmEvents } from '../farm-events';
import { useLiveList } from '../live-list';
import { useApi } from '../use-api';
import { formatTime } from '../view';
import { Options } from '../components/options';

export function JobsPage() {
  const [status, setStatus] = useState<JobStatus | ''>('');
  const { data, error, reload } = useApi<Page<JobView>>(`/jobs?limit=100${status ? `&status=${status}` : ''}`);
  // Pushed by the API as jobs are submitted, run and end: a job new to the list, or one that
  // leaves the chosen status, has the list read again.
  const list = useLiveList(data?.items, reload);
  useFarmEvents({ jobs: ({ jobs }) => list.push(jobs, (job, known) => (status ? known !== (job.status === status) : !known)) });
  return (
    <>
      <h1>Jobs</h1>
      <section aria-labelledby="new-job">
        <h2 id="new-job">New job</h2>
        <NewJobForm onCreated={(job) => navigate(`/jobs/${job.id}`)} />
      </section>
      <section aria-labelledby="job-list">
        <h2 id="job-list">Submitted jobs</h2>
        <div className="toolbar">
          <label>
            Status{' '}
            <select value={status} onChange={(e) => setStatus(e.target.value as JobStatus | '')}>
              <option value="">all</option>
              <Options values={JOB_STATUSES} />
            </select>
          </label>
          {data && <span>{data.total} jobs</span>}
        </div>
        {error && <p className="error">{error}</p>}
        <table>
          <thead>
            <tr>
              <th scope="col">Name</th>
              <th scope="col">Status</th>
              <th scope="col">Progress</th>
              <th scope="col">Created</th>
              <th scope="col">Started</th>
              <th scope="col">Finished</th>
            </tr>
          </thead>
          <tbody>
            {list.items?.map((job) => (
              <tr key={job.id} data-job={job.id}>
                <td>
                  <Link to={`/jobs/${job.id}`}>{job.name}</Link>
                </td>
                <td>{job.status}</td>
                <td>
                  <ProgressBar progress={job.progress} label={`Progress of ${job.name}`} />
                </td>
                <td>{formatTime(job.createdAt)}</td>
                <td>{formatTime(job.startedAt)}</td>
                <td>{formatTime(job.finishedAt)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </section>
    </>
  );
}
