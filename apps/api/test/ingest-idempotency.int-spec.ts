import { randomUUID } from 'node:crypto';
import { type AgentRegistered, type HeartbeatAck, type Measurement, type RunReport, type RunReportAck } from '@farm/contracts';
import { FarmApi } from '@farm/client';
import { Client } from 'pg';
import { countRows, expectedRows, startTestFarm, until, within, type TestFarm } from './support';

/**
 * The API's side of "nothing lost, nothing counted twice", driven by a hand-made agent (no agent
 * process), so each delivery is exactly what the test sends: batch keys, repeated claims and
 * run leases.
 */
describe('report ingest', () => {
  let farm: TestFarm;
  /** Each hand-made agent's client, with a token bound to that agent. */
  const agents = new Map<string, FarmApi>();
  const agent = (agentId: string): FarmApi => {
    const api = agents.get(agentId);
    if (!api) throw new Error(`no agent ${agentId}`);
    return api;
  };
  const heartbeats: NodeJS.Timeout[] = [];

  beforeAll(async () => {
    farm = await startTestFarm([]);
  });
  afterEach(() => heartbeats.splice(0).forEach(clearInterval));
  afterAll(() => farm.stop());

  /**
   * Registers an agent with one simulated device of its own, keeps it heartbeating (naming the
   * attempts in `active`), and submits a one-run job to it.
   */
  async function claimableRun(
    iterations: number,
  ): Promise<{ agentId: string; session: string; runId: string; jobId: string; tag: string; active: { runId: string; attempt: number }[] }> {
    const name = `hand-${randomUUID().slice(0, 8)}`;
    const session = randomUUID();
    const api = new FarmApi(farm.stack.apiUrl, { token: await farm.stack.createToken({ role: 'agent', agent: name }) });
    const registered = await api.request<AgentRegistered>('POST', '/api/agents/register', {
      name,
      hostname: 'localhost',
      version: 'test',
      backends: ['simulated'],
      session,
      devices: [
        {
          serial: `${name}-sim-001`,
          backend: 'simulated',
          manufacturer: 'Simulated',
          model: 'Hand',
          osVersion: '14',
          soc: null,
          ramMb: null,
          tags: [name],
          properties: { simulated: true },
          health: { batteryPct: 90, temperatureC: 30, charging: false },
        },
      ],
    });
    expect(registered.status).toBe(201);
    const { agentId } = registered.body;
    agents.set(agentId, api);
    const active: { runId: string; attempt: number }[] = [];
    heartbeats.push(setInterval(() => void agent(agentId).request('POST', `/api/agents/${agentId}/heartbeat`, { session, devices: [], active }).catch(() => undefined), 250));
    const job = await farm.api.submit({ name, models: ['mobilenet_v2'], scenarios: ['on_device'], devices: { tags: [name] }, iterations });
    const runId = job.runs?.[0]?.id;
    if (!runId) throw new Error('the job has no run');
    return { agentId, session, runId, jobId: job.id, tag: name, active };
  }

  async function report(agentId: string, reports: RunReport[]): Promise<RunReportAck[]> {
    const response = await agent(agentId).request<{ acks: RunReportAck[] }>('POST', `/api/agents/${agentId}/reports`, { reports });
    expect(response.status).toBe(200);
    return response.body.acks;
  }

  function rowsOf(iterations: number): Measurement[] {
    const row = (iteration: number, phase: Measurement['phase']): Measurement => ({
      iteration,
      warmup: false,
      phase,
      durationMs: 1 + iteration,
      energyMj: null,
      energyMethod: 'simulated',
    });
    return [row(0, 'model_load'), ...Array.from({ length: iterations }, (_, i) => (['preprocess', 'inference', 'postprocess', 'total'] as const).map((p) => row(i + 1, p))).flat()];
  }

  it('stores a measurement batch once however often it is delivered: again later, twice in one request, or side by side', async () => {
    const { agentId, runId, jobId } = await claimableRun(4);
    const rows = rowsOf(4);
    const first: RunReport = { type: 'measurements', runId, attempt: 1, batch: 0, rows: rows.slice(0, 9) };
    const second: RunReport = { type: 'measurements', runId, attempt: 1, batch: 1, rows: rows.slice(9) };

    const acks = await report(agentId, [{ type: 'claim', runId, attempt: 1 }, first, first]);
    expect(acks).toEqual([{ runId, ok: true }, { runId, ok: true }, { runId, ok: true, duplicate: true }]);
    expect(await report(agentId, [first])).toEqual([{ runId, ok: true, duplicate: true }]);
    const [a, b] = await Promise.all([report(agentId, [second]), report(agentId, [second])]);
    expect([a?.[0]?.duplicate ?? false, b?.[0]?.duplicate ?? false].sort()).toEqual([false, true]);

    // A claim repeated after the attempt started (its answer was lost) is granted and changes nothing.
    expect(await report(agentId, [{ type: 'status', runId, attempt: 1, status: 'running' }, { type: 'claim', runId, attempt: 1 }])).toEqual([
      { runId, ok: true },
      { runId, ok: true },
    ]);
    const finish: RunReport = { type: 'finish', runId, attempt: 1, rows: rows.length };
    expect(await report(agentId, [finish])).toEqual([{ runId, ok: true }]);
    expect(await report(agentId, [finish, first])).toEqual([
      { runId, ok: false, stop: 'finished' },
      { runId, ok: false, stop: 'finished' },
    ]);

    const done = await farm.api.job(jobId);
    expect(done.runs?.[0]).toMatchObject({ status: 'finished', result: 'passed', attempt: 1 });
    expect(await countRows(farm.db, jobId)).toEqual({ current: expectedRows('on_device', 4), all: expectedRows('on_device', 4) });
    const { rows: batches } = await farm.db.query<{ batch: number; rows: number }>(
      `SELECT batch, rows FROM measurement_batches WHERE run_id = $1 ORDER BY batch`,
      [runId],
    );
    expect(batches).toEqual([
      { batch: 0, rows: 9 },
      { batch: 1, rows: rows.length - 9 },
    ]);
  });

  it('refuses the batches of an unclaimed or stale attempt, and stores none of their rows', async () => {
    const { agentId, runId, jobId } = await claimableRun(2);
    const acks = await report(agentId, [{ type: 'measurements', runId, attempt: 1, batch: 0, rows: rowsOf(2) }]);
    expect(acks).toEqual([{ runId, ok: false, stop: 'stale' }]);
    expect(await report(agentId, [{ type: 'measurements', runId, attempt: 2, batch: 0, rows: rowsOf(2) }])).toEqual([{ runId, ok: false, stop: 'stale' }]);
    expect(await countRows(farm.db, jobId)).toEqual({ current: 0, all: 0 });
    const { rows } = await farm.db.query(`SELECT 1 FROM measurement_batches WHERE run_id = $1`, [runId]);
    expect(rows).toHaveLength(0);
  });

  it('recovers a run whose lease ran out while its agent kept heartbeating without it', async () => {
    const { agentId, session, runId, active } = await claimableRun(2);
    active.push({ runId, attempt: 1 });
    expect(await report(agentId, [{ type: 'claim', runId, attempt: 1 }])).toEqual([{ runId, ok: true }]);

    // Heartbeats that name the attempt hold its lease past AGENT_TIMEOUT_MS (1.5 s here).
    await new Promise((resolve) => setTimeout(resolve, 3_000));
    const held = await farm.db.query<{ status: string; attempt: number }>(`SELECT status::text, attempt FROM runs WHERE id = $1`, [runId]);
    expect(held.rows[0]).toEqual({ status: 'preparing', attempt: 1 });

    // Then the agent stays online but no longer names it: the lease expires and the run is retried.
    active.splice(0);
    const started = Date.now();
    const recovered = await until(async () => {
      const { rows } = await farm.db.query<{ attempt: number; error_message: string }>(
        `SELECT attempt, error_message FROM runs WHERE id = $1 AND attempt = 2 AND status = 'queued' AND error_kind = 'agent_lost'`,
        [runId],
      );
      return rows[0];
    }, 10_000, 'the run to be recovered');
    expect(recovered.error_message).toMatch(/lease expired/);
    expect(Date.now() - started).toBeLessThan(1_500 + 200 + 2_000);
    const agents = (await farm.api.request<{ id: string; state: string }[]>('GET', '/api/agents')).body;
    expect(agents.find((a) => a.id === agentId)?.state).toBe('online');

    // The retry runs on the same agent, while the old attempt's finish is still on its way: a
    // heartbeat naming both must not stop the retry; one naming the old attempt alone stops the run.
    expect(await report(agentId, [{ type: 'claim', runId, attempt: 2 }])).toEqual([{ runId, ok: true }]);
    const beat = async (attempts: number[]) =>
      (await agent(agentId).request<HeartbeatAck>('POST', `/api/agents/${agentId}/heartbeat`, { session, devices: [], active: attempts.map((attempt) => ({ runId, attempt })) })).body.stop;
    expect(await beat([1, 2])).toEqual([]);
    expect(await beat([1])).toEqual([runId]);
  });

  it('renews at once the leases no report holds, and never waits for one that does', async () => {
    const { agentId, session, runId: first, tag, active } = await claimableRun(2);
    const next = await farm.api.submit({ name: `${tag}-next`, models: ['mobilenet_v2'], scenarios: ['on_device'], devices: { tags: [tag] }, iterations: 2 });
    const second = next.runs?.[0]?.id ?? '';
    const attempts = [first, second].map((runId) => ({ runId, attempt: 1 }));
    expect(await report(agentId, attempts.map((a) => ({ type: 'claim' as const, ...a })))).toEqual(attempts.map(({ runId }) => ({ runId, ok: true })));
    active.push(...attempts);
    const serial = `${tag}-sim-001`;
    const leases = async (): Promise<Map<string, number>> => {
      const { rows } = await farm.db.query<{ id: string; lease: Date }>(`SELECT id, lease_expires_at AS lease FROM runs WHERE id = ANY($1::uuid[])`, [[first, second]]);
      return new Map(rows.map((r) => [r.id, r.lease.getTime()]));
    };

    // A transaction holding the second run and the device, as a report's holds them until it
    // commits; it goes on to lock the first run, as a report locks its runs one by one.
    const holder = new Client({ connectionString: process.env['DATABASE_URL'] });
    await holder.connect();
    try {
      await holder.query('BEGIN');
      await holder.query(`SELECT 1 FROM runs WHERE id = $1 FOR UPDATE`, [second]);
      await holder.query(`SELECT 1 FROM devices WHERE serial = $1 FOR UPDATE`, [serial]);
      const before = await leases();
      await new Promise((resolve) => setTimeout(resolve, 50));
      const beat = agent(agentId).request('POST', `/api/agents/${agentId}/heartbeat`, {
        session,
        devices: [{ serial, backend: 'simulated', health: { batteryPct: 10, temperatureC: 45, charging: true } }],
        active: attempts,
      });
      expect((await within(5_000, "the heartbeat's answer", beat)).status).toBe(200);
      const after = await leases();
      expect(after.get(first)).toBeGreaterThan(before.get(first) ?? Infinity);
      expect(after.get(second)).toBe(before.get(second));
      await holder.query(`SELECT 1 FROM runs WHERE id = $1 FOR UPDATE`, [first]);
    } finally {
      await holder.query('ROLLBACK');
      await holder.end();
    }
    // The held device's health waits for the next beat that finds it free.
    const { rows } = await farm.db.query<{ battery: number }>(`SELECT battery_pct AS battery FROM devices WHERE serial = $1`, [serial]);
    expect(rows[0]?.battery).toBe(90);
  });
});
