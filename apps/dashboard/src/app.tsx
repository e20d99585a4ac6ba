import { lazy, Suspense } from 'react';
import { DevicesPage } from './pages/devices';
import { JobDetailPage } from './pages/job-detail';
import { JobsPage } from './pages/jobs';
import { Link, usePath } from './router';

// The nightly pages load when first opened, so the job pages carry none of their code.
const SchedulesPage = lazy(() => import('./pages/schedules').then((m) => ({ default: m.SchedulesPage })));
const RegressionsPage = lazy(() => import('./pages/regressions').then((m) => ({ default: m.RegressionsPage })));
const SeriesPage = lazy(() => import('./pages/series').then((m) => ({ default: m.SeriesPage })));

const UUID = '[0-9a-f-]{36}';

export function App() {
  const [path = '/', search = ''] = usePath().split('?');
  const jobId = new RegExp(`^/jobs/(${UUID})$`).exec(path)?.[1];
  const seriesOf = new RegExp(`^/schedules/(${UUID})/series$`).exec(path)?.[1];
  const section = jobId || path === '/' ? 'jobs' : path.split('/')[1];
  return (
    <>
      <header>
        <nav aria-label="Main">
          <span className="brand">Inference farm</span>
          <Link to="/" current={section === 'jobs'}>
            Jobs
          </Link>
          <Link to="/devices" current={section === 'devices'}>
            Devices
          </Link>
          <Link to="/schedules" current={section === 'schedules'}>
            Schedules
          </Link>
          <Link to="/regressions" current={section === 'regressions'}>
            Regressions
          </Link>
          <a href="/api/docs">API</a>
          <a href="/admin/queues">Queues</a>
        </nav>
      </header>
      <main>
        <Suspense fallback={<p>Loading…</p>}>
          {jobId ? (
            <JobDetailPage key={jobId} jobId={jobId} />
          ) : seriesOf ? (
            <SeriesPage key={seriesOf} scheduleId={seriesOf} query={new URLSearchParams(search)} />
          ) : path === '/' ? (
            <JobsPage />
          ) : path === '/devices' ? (
            <DevicesPage />
          ) : path === '/schedules' ? (
            <SchedulesPage />
          ) : path === '/regressions' ? (
            <RegressionsPage />
          ) : (
            <NotFound />
          )}
        </Suspense>
      </main>
    </>
  );
}

function NotFound() {
  return (
    <>
      <h1>Not found</h1>
      <p>
        No page here. <Link to="/">Back to the jobs</Link>.
      </p>
    </>
  );
}
