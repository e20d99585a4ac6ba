import type { JobView } from '@farm/contracts';

/** A running job of two runs, one queued and one running, for the event specs. */
export const jobView = (overrides: Partial<JobView> = {}): JobView => ({
  id: 'j1',
  name: 'job',
  status: 'running',
  createdAt: '2026-01-01T00:00:00.000Z',
  startedAt: '2026-01-01T00:00:01.000Z',
  finishedAt: null,
  deadlineAt: '2026-01-02T00:00:00.000Z',
  priority: 5,
  progress: { total: 2, queued: 2, running: 0, passed: 0, failed: 0, errored: 0, cancelled: 0, timedOut: 0 },
  ...overrides,
});
