import { randomUUID } from 'node:crypto';
import { FarmApi } from '@farm/client';
import { DEFAULT_REDIS_URL, attemptJobId, deviceQueueName, type AgentRegistered, type JobView } from '@farm/contracts';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { FAST_TIMEOUTS, startTestFarm, until, type TestFarm } from './support';

/** How long after a run is queued the repair may look at it: AGENT_TIMEOUT_MS, then a sweep. */
const REPAIR_BOUND_MS = Number(FAST_TIMEOUTS.AGENT_TIMEOUT_MS) + Number(FAST_TIMEOUTS.REAPER_INTERVAL_MS);

describe('queued attempts that Redis lost', () => {
  let farm: TestFarm;
  let redis: Redis;
  let prefix: string;
  let heartbeats: NodeJS.Timeout | undefined;
  const queues = new Map<string, Queue>();

  /** The device queue's job of each run's attempt, or undefined where there is none. */
  async function queuedJobs(job: JobView): Promise<(string | undefined)[]> {
    return Promise.all(
      (job.runs ?? []).map(async (run) => {
        let queue = queues.get(run.deviceId);
        if (!queue) {
          queue = new Queue(deviceQueueName(run.deviceId), { connection: redis, prefix });
          queues.set(run.deviceId, queue);
        }
        return (await queue.getJob(attemptJobId(run.id, run.attempt)))?.id;
      }),
    );
  }

  beforeAll(async () => {
    // Nothing runs the jobs: a registered agent that only heartbeats, so its devices' queues fill.
    farm = await startTestFarm([], { DEVICE_RETURN_MS: '600000' });
    prefix = farm.stack.env['QUEUE_PREFIX'] ?? '';
    redis = new Redis(farm.stack.env['REDIS_URL'] ?? DEFAULT_REDIS_URL, { maxRetriesPerRequest: null });
    const name = `idle-${farm.tag}`;
    const agent = new FarmApi(farm.stack.apiUrl, { token: await farm.stack.createToken({ role: 'agent', agent: name }) });
    const health = { batteryPct: 90, temperatureC: 30, charging: false };
    const devices = ['idle-1', 'idle-2'].map((serial) => ({
      serial,
      backend: 'simulated' as const,
      manufacturer: 'Sim',
      model: 'Idle',
      osVersion: '14',
      soc: null,
      ramMb: 4096,
      tags: [farm.tag],
      properties: {},
      health,
    }));
    const session = randomUUID();
    const registered = await agent.request<AgentRegistered>('POST', '/api/agents/register', { name, hostname: 'localhost', version: 'test', backends: ['simulated'], session, devices });
    expect(registered.status).toBe(201);
    const beat = { session, devices: devices.map(({ serial, backend }) => ({ serial, backend, health })), lost: [], active: [] };
    heartbeats = setInterval(() => void agent.request('POST', `/api/agents/${registered.body.agentId}/heartbeat`, beat), 300);
  });

  afterAll(async () => {
    clearInterval(heartbeats);
    await Promise.all([...queues.values()].map((q) => q.close()));
    await redis?.quit();
    await farm?.stop();
  });

  const submit = (name: string) => farm.api.submit({ name, models: ['mobilenet_v2'], scenarios: ['on_device'], devices: { tags: [farm.tag] }, iterations: 1 });

  it('queues again, at the next sweep, every queued attempt of a Redis that lost its data', async () => {
    const job = await submit('repair-after-loss');
    expect((await queuedJobs(job)).every(Boolean)).toBe(true);
    // Older than the window a sweep checks again (a sweep's, plus as much of overlap): only a
    // pass over every queued run finds them now. Then Redis loses everything of this farm's.
    await new Promise((resolve) => setTimeout(resolve, 2 * REPAIR_BOUND_MS));
    const keys = await redis.keys(`${prefix}:*`);
    await redis.del(...keys);
    const lostAt = Date.now();
    expect((await queuedJobs(job)).some(Boolean)).toBe(false);

    await until(async () => (await queuedJobs(job)).every(Boolean), 10_000, 'the lost attempts to be queued again');
    expect(Date.now() - lostAt).toBeLessThan(REPAIR_BOUND_MS + 1_000);
    const runs = (await farm.api.job(job.id)).runs ?? [];
    expect(runs.map((r) => [r.status, r.attempt])).toEqual([
      ['queued', 1],
      ['queued', 1],
    ]);
  });

  it('queues again an attempt that never reached its queue, once it is older than AGENT_TIMEOUT_MS, while Redis kept the rest', async () => {
    const job = await submit('repair-one-missing');
    const [first] = job.runs ?? [];
    if (!first) throw new Error('the job has no run');
    expect((await queuedJobs(job)).every(Boolean)).toBe(true);
    // As if the add had failed after the job's commit (Redis unreachable for that moment).
    await queues.get(first.deviceId)?.remove(attemptJobId(first.id, first.attempt));
    const removedAt = Date.now();
    expect(await queuedJobs(job)).toEqual([undefined, expect.any(String)]);

    await until(async () => (await queuedJobs(job)).every(Boolean), 10_000, 'the missing attempt to be queued again');
    expect(Date.now() - removedAt).toBeLessThan(REPAIR_BOUND_MS + 1_000);
  });
});
