import { randomUUID } from 'node:crypto';
import { Agent, get, type IncomingMessage } from 'node:http';
import type { JobProgress, RunView } from '@farm/contracts';
import { startService, waitForHttp } from '../../../scripts/lib/processes';
import { freePort } from '../../../scripts/lib/stack';
import { startTestFarm, within, type TestFarm } from './support';

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

  it('ends its streams when it stops, and exits while a client goes on asking on its kept-alive connection', async () => {
    const port = await freePort();
    const api = startService('api-stopping', 'apps/api/src/main.ts', { ...farm.stack.env, PORT: String(port) }, { quiet: true });
    const job = await farm.api.submit({ name: 'long', models: ['mobilenet_v2'], scenarios: ['on_device'], devices: { tags: [farm.tag] }, iterations: 5_000 });
    try {
      await waitForHttp(`http://127.0.0.1:${port}/api/health`, api);
      // One kept-alive connection for each stream, taken up again by the client's later requests.
      const agent = new Agent({ keepAlive: true, maxSockets: 2 });
      const open = (path: string) =>
        new Promise<IncomingMessage>((resolve, reject) =>
          get({ port, path, agent, headers: { accept: 'text/event-stream', ...farm.auth } }, (response) => response.once('data', () => resolve(response))).on('error', reject),
        );
      const streams = await Promise.all([open('/api/events'), open(`/api/jobs/${job.id}/events`)]);
      const ended = streams.map((stream) => new Promise<void>((resolve) => (stream.resume(), stream.once('end', resolve))));

      const exited = api.stop();
      await within(10_000, 'the streams to end', Promise.all(ended));
      // Asking back to back, the client keeps its connection busy: Node's close() leaves a busy
      // connection open, and a client that keeps it busy kept the API from exiting.
      const answers: string[] = [];
      let asking = true;
      const client = (async () => {
        while (asking) {
          answers.push(
            await new Promise<string>((resolve) =>
              get({ port, path: '/api/health', agent }, (response) => (response.resume(), resolve(response.headers.connection ?? 'keep-alive'))).on('error', (error: NodeJS.ErrnoException) =>
                resolve(error.code ?? error.message),
              ),
            ),
          );
        }
      })();
      await within(15_000, 'the API to exit', exited);
      asking = false;
      await client;
      agent.destroy();
      // Whatever was answered after the streams ended told the client to close its connection;
      // the rest found it closed (reset, when the API closed it idle as the client took it up).
      expect(answers.length).toBeGreaterThan(0);
      expect(answers.filter((answer) => !['close', 'ECONNREFUSED', 'ECONNRESET'].includes(answer))).toEqual([]);
    } finally {
      // An API that did not stop is killed, so the test fails on the step that hung.
      await api.stop('SIGKILL');
      await farm.api.cancel(job.id);
    }
  }, 60_000);
});
