import type { JobView, RunView } from '@farm/contracts';
import { jobEvents } from './job-events';
import { jobView } from './views.fixture';

const run = (id: string, overrides: Partial<RunView> = {}): RunView => ({
  id,
  deviceId: 'd1',
  model: 'mobilenet_v2',
  scenario: 'on_device',
  status: 'queued',
  result: null,
  attempt: 1,
  errorKind: null,
  errorMessage: null,
  details: null,
  startedAt: null,
  finishedAt: null,
  ...overrides,
});

const job = (overrides: Partial<JobView> = {}): JobView => jobView({ runs: [run('r1'), run('r2')], ...overrides });

describe('jobEvents', () => {
  it('tells a new client the whole job', () => {
    const sut = jobEvents(undefined, job());
    expect(sut.map((e) => e.type)).toEqual(['progress', 'runs']);
    expect(sut[1]).toEqual({ type: 'runs', data: { runs: [run('r1'), run('r2')] } });
  });

  it('says nothing when nothing changed', () => {
    expect(jobEvents(job(), job())).toEqual([]);
  });

  it('sends only the runs whose status, result or attempt changed, with the new counts', () => {
    const next = job({
      progress: { ...job().progress, queued: 1, running: 1 },
      runs: [run('r1', { status: 'running', startedAt: '2026-01-01T00:00:02.000Z' }), run('r2')],
    });
    expect(jobEvents(job(), next)).toEqual([
      { type: 'progress', data: { id: 'j1', status: 'running', progress: next.progress, startedAt: next.startedAt, finishedAt: null } },
      { type: 'runs', data: { runs: [next.runs?.[0]] } },
    ]);
    const retried = job({ runs: [run('r1', { attempt: 2 }), run('r2')] });
    expect(jobEvents(job(), retried)).toEqual([{ type: 'runs', data: { runs: [retried.runs?.[0]] } }]);
  });

  it('ends with finished once the job has', () => {
    const progress = { ...job().progress, queued: 0, passed: 2 };
    const over = job({ status: 'finished', finishedAt: '2026-01-01T00:01:00.000Z', progress, runs: [run('r1', { status: 'finished', result: 'passed' }), run('r2', { status: 'finished', result: 'passed' })] });
    expect(jobEvents(job(), over).map((e) => e.type)).toEqual(['progress', 'runs', 'finished']);
    expect(jobEvents(over, over)).toEqual([{ type: 'finished', data: { id: 'j1', status: 'finished', progress, finishedAt: over.finishedAt } }]);
  });
});
