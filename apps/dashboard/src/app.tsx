import { DevicesPage } from './pages/devices';
import { JobDetailPage } from './pages/job-detail';
import { JobsPage } from './pages/jobs';
import { Link, usePath } from './router';

export function App() {
  const path = usePath();
  const jobId = /^\/jobs\/([0-9a-f-]{36})$/.exec(path)?.[1];
  const devices = path === '/devices';
  return (
    <>
      <header>
        <nav aria-label="Main">
          <span className="brand">Inference farm</span>
          <Link to="/" current={!devices && !jobId}>
            Jobs
          </Link>
          <Link to="/devices" current={devices}>
            Devices
          </Link>
          <a href="/api/docs">API</a>
        </nav>
      </header>
      <main>{jobId ? <JobDetailPage key={jobId} jobId={jobId} /> : devices ? <DevicesPage /> : path === '/' ? <JobsPage /> : <NotFound />}</main>
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
