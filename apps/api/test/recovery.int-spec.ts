import { countRows, expectedRows, startTestFarm, until, type TestFarm } from './support';

// Each simulated phase sleeps 1/20 of its modelled time: a low-end run lasts about 1.5 s,
// long enough to be killed in the middle.
const SLOW = { SIM_DEVICES: '3', SIM_TIME_SCALE: '0.05', SIM_PROFILES: 'low_end' };

describe('an agent killed with SIGKILL in the middle of runs', () => {
  let farm: TestFarm;

  beforeEach(async () => {
    farm = await startTestFarm([{ name: 'victim', env: SLOW }]);
  });
  afterEach(() => farm.stop());

  async function killMidRun(jobId: string): Promise<string[]> {
    const running = await until(async () => {
      const { rows } = await farm.db.query<{ id: string }>(
        `SELECT r.id FROM runs r WHERE r.job_id = $1 AND r.status = 'running'
            AND EXISTS (SELECT 1 FROM measurements m WHERE m.run_id = r.id)`,
        [jobId],
      );
      return rows.length > 0 && rows.map((r) => r.id);
    }, 30_000, 'a run with rows in progress');
    expect(running.length).toBeGreaterThan(0);
    const [agent] = farm.stack.agents;
    await agent?.stop('SIGKILL');
    // Every attempt in flight when the agent died, with or without rows yet.
    const { rows } = await farm.db.query<{ id: string }>(
      `SELECT id FROM runs WHERE job_id = $1 AND status IN ('preparing', 'running', 'uploading')`,
      [jobId],
    );
    return rows.map((r) => r.id);
  }

  it('recovers at once when the agent restarts: the attempt is retried and no row is counted twice', async () => {
    const job = await farm.api.submit({ name: 'kill-restart', models: ['inception_v3'], scenarios: ['on_device', 'cloud'], devices: { tags: [farm.tag] }, iterations: 12 });
    const killed = await killMidRun(job.id);

    await farm.stack.startAgent(farm.agentEnv('victim', SLOW));
    const done = await farm.api.waitForJob(job.id, { timeoutMs: 60_000 });

    expect(done.progress).toMatchObject({ total: 6, passed: 6, errored: 0 });
    for (const run of done.runs ?? []) {
      if (killed.includes(run.id)) expect(run).toMatchObject({ attempt: 2, errorKind: null });
    }
    const rows = await countRows(farm.db, job.id);
    expect(rows.current).toBe(3 * expectedRows('on_device', 12) + 3 * expectedRows('cloud', 12));
    // The killed attempt's partial rows stay as evidence, under attempt 1, outside every figure.
    expect(rows.all).toBeGreaterThan(rows.current);
    const summary = await farm.api.summary(job.id);
    const inference = summary.groups.find((g) => g.scenario === 'on_device' && g.phase === 'inference');
    expect(inference?.n).toBe(3 * 12);
  });

  it('recovers within the heartbeat timeout when the agent stays down, and finishes once it is back', async () => {
    const job = await farm.api.submit({ name: 'kill-wait', models: ['inception_v3'], scenarios: ['on_device'], devices: { tags: [farm.tag] }, iterations: 12 });
    const killed = await killMidRun(job.id);
    const killedAt = Date.now();

    // AGENT_TIMEOUT_MS is 1.5 s and the reaper looks every 0.2 s in these tests.
    await until(async () => {
      const { rows } = await farm.db.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM runs WHERE id = ANY($1) AND attempt = 2 AND status = 'queued' AND error_kind = 'agent_lost'`,
        [killed],
      );
      return rows[0]?.n === killed.length;
    }, 10_000, 'the killed runs to be queued again');
    const recoveredAfterMs = Date.now() - killedAt;
    expect(recoveredAfterMs).toBeLessThan(1_500 + 200 + 1_000);
    const devices = await farm.api.request<{ state: string }[]>('GET', '/api/devices?backend=simulated');
    expect(devices.body.filter((d) => d.state === 'offline').length).toBeGreaterThanOrEqual(3);

    await farm.stack.startAgent(farm.agentEnv('victim', SLOW));
    const done = await farm.api.waitForJob(job.id, { timeoutMs: 60_000 });
    expect(done.progress).toMatchObject({ total: 3, passed: 3 });
    expect((await countRows(farm.db, job.id)).current).toBe(3 * expectedRows('on_device', 12));
  });

  it('ends runs as errored when attempts run out', async () => {
    const job = await farm.api.submit({ name: 'kill-no-retry', models: ['inception_v3'], scenarios: ['on_device'], devices: { tags: [farm.tag] }, iterations: 12, maxAttempts: 1 });
    const killed = await killMidRun(job.id);
    await farm.stack.startAgent(farm.agentEnv('victim', SLOW));
    const done = await farm.api.waitForJob(job.id, { timeoutMs: 60_000 });
    const errored = (done.runs ?? []).filter((r) => r.result === 'errored');
    expect(errored.map((r) => r.id).sort()).toEqual([...killed].sort());
    expect(errored.every((r) => r.errorKind === 'agent_lost')).toBe(true);
    expect(done.progress.passed).toBe(3 - killed.length);
  });
});
