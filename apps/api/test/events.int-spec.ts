import { randomUUID } from 'node:crypto';
import type { JobProgress, RunView } from '@farm/contracts';
import { startTestFarm, type TestFarm } from './support';

interface SseEvent {
  type: string;
  data: unknown;
}

/** Reads a whole event stream until the server ends it. */
async function readEvents(farm: TestFarm, path: string): Promise<{ status: number; contentType: string | null; events: SseEvent[]; body?: unknown }> {
  const response = await fetch(`${farm.stack.apiUrl}${path}`, { headers: { accept: 'text/event-stream', ...farm.auth } });
  const contentType = response.headers.get('content-type');
  if (!contentType?.startsWith('text/event-stream')) return { status: response.status, contentType, events: [], body: await response.json() };
  const text = await response.text();
  const events = text
    .split('\n\n')
    .filter((block) => block.trim() !== '')
    .map((block) => {
      const fields = new Map(block.split('\n').map((line) => [line.slice(0, line.indexOf(':')), line.slice(line.indexOf(':') + 1).trim()]));
      return { type: fields.get('event') ?? 'message', data: JSON.parse(fields.get('data') ?? 'null') as unknown };
    });
  return { status: response.status, contentType, events };
}

const done = (p: JobProgress): number => p.passed + p.failed + p.errored + p.cancelled + p.timedOut;

/** GET /api/jobs/:id/events against the real API and a simulated agent. */
describe('job events (server-sent)', () => {
  let farm: TestFarm;

  beforeAll(async () => {
    farm = await startTestFarm([{ name: 'events', env: { SIM_DEVICES: '2', SIM_TIME_SCALE: '0.02' } }]);
  });
  afterAll(() => farm.stop());

  it('answers 404 as JSON for an unknown job and 400 for a malformed id', async () => {
    const unknown = await readEvents(farm, `/api/jobs/${randomUUID()}/events`);
    expect(unknown.status).toBe(404);
    expect(unknown.contentType).toMatch(/^application\/json/);
    expect(unknown.body).toMatchObject({ statusCode: 404, error: 'Not Found' });
    expect((await readEvents(farm, `/api/jobs/nope/events`)).status).toBe(400);
  });

  it('pushes the whole job, then its progress and run changes as they happen, and ends with finished', async () => {
    const job = await farm.api.submit({ name: 'live', models: ['mobilenet_v2'], scenarios: ['on_device', 'cloud'], devices: { tags: [farm.tag] }, iterations: 20 });
    const { status, events } = await readEvents(farm, `/api/jobs/${job.id}/events`);
    expect(status).toBe(200);

    const [first, second] = events;
    expect(first).toMatchObject({ type: 'progress', data: { id: job.id, progress: { total: 4 } } });
    expect(second?.type).toBe('runs');
    expect((second?.data as { runs: RunView[] }).runs.map((r) => r.id).sort()).toEqual(job.runs?.map((r) => r.id).sort());

    const progress = events.filter((e) => e.type === 'progress').map((e) => (e.data as { progress: JobProgress }).progress);
    expect(progress.length).toBeGreaterThan(1);
    const finishedCounts = progress.map(done);
    expect(finishedCounts).toEqual([...finishedCounts].sort((a, b) => a - b));
    // Each pushed change is a real change: no event repeats the one before.
    expect(new Set(progress.map((p) => JSON.stringify(p))).size).toBe(progress.length);

    const last = events.at(-1);
    expect(last).toMatchObject({ type: 'finished', data: { id: job.id, status: 'finished', progress: { total: 4, passed: 4 } } });
    expect(events.filter((e) => e.type === 'finished')).toHaveLength(1);

    // Every run was reported on its way to finished, the last report of each saying passed.
    const lastOfRun = new Map<string, RunView>();
    for (const e of events.filter((e) => e.type === 'runs')) for (const run of (e.data as { runs: RunView[] }).runs) lastOfRun.set(run.id, run);
    expect([...lastOfRun.values()].map((r) => [r.status, r.result])).toEqual(Array(4).fill(['finished', 'passed']));
    expect(events.filter((e) => e.type === 'runs').length).toBeGreaterThan(1);
  });

  it('gives a finished job at once: its state, its runs and finished, then ends', async () => {
    const job = await farm.api.submit({ name: 'over', models: ['mobilenet_v2'], scenarios: ['on_device'], devices: { tags: [farm.tag] }, iterations: 1 });
    await farm.api.waitForJob(job.id, { timeoutMs: 30_000 });
    const { events } = await readEvents(farm, `/api/jobs/${job.id}/events`);
    expect(events.map((e) => e.type)).toEqual(['progress', 'runs', 'finished']);
  });
});
