import { BUNDLED_MODELS, type JobSpecInput, type JobView, type SummaryGroup } from '@farm/contracts';
import { countRows, expectedRows, startTestFarm, type TestFarm } from './support';

describe('a job on 20 simulated devices × 3 models × 2 scenarios × 10 iterations', () => {
  let farm: TestFarm;

  beforeAll(async () => {
    farm = await startTestFarm([{ name: 'fleet', env: { SIM_DEVICES: '20' } }]);
  });
  afterAll(() => farm.stop());

  it('passes all 120 runs with exactly the expected rows, and the summary counts every group right', async () => {
    const spec: JobSpecInput = {
      name: 'fleet-120',
      models: [...BUNDLED_MODELS],
      scenarios: ['on_device', 'cloud'],
      devices: { tags: [farm.tag] },
      iterations: 10,
      warmup: 2,
    };
    const job = await farm.api.submit(spec);
    expect(job.progress).toMatchObject({ total: 120, queued: 120 });
    expect(job.runs).toHaveLength(120);

    const done = await farm.api.waitForJob(job.id, { timeoutMs: 90_000 });
    expect(done.status).toBe('finished');
    expect(done.progress).toEqual({ total: 120, queued: 0, running: 0, passed: 120, failed: 0, errored: 0, cancelled: 0, timedOut: 0 });

    // 60 on-device runs and 60 cloud runs, 12 iterations each (2 of them warm-up).
    const rows = await countRows(farm.db, job.id);
    expect(rows.all).toBe(60 * expectedRows('on_device', 12) + 60 * expectedRows('cloud', 12));
    expect(rows.current).toBe(rows.all);

    const { rows: perDeviceModel } = await farm.db.query<{ model: string; n: number }>(
      `SELECT model, count(*)::int AS n FROM devices WHERE $1 = ANY(tags) GROUP BY model`,
      [farm.tag],
    );
    const devicesOf = new Map(perDeviceModel.map((r) => [r.model, r.n]));
    expect([...devicesOf.values()].sort()).toEqual([6, 7, 7]);

    const summary = await farm.api.summary(job.id);
    // 3 device models × 3 CNNs × (5 on-device phases + 8 cloud phases)
    expect(summary.groups).toHaveLength(3 * 3 * 13);
    for (const group of summary.groups) {
      const devices = devicesOf.get(group.deviceModel) ?? 0;
      // Warm-up iterations are left out: the 10 measured ones count; the cold load once a run.
      expect({ group: label(group), n: group.n }).toEqual({ group: label(group), n: group.phase === 'model_load' ? devices : devices * 10 });
      expect(group).toMatchObject({ backend: 'simulated', energyMethod: 'simulated' });
      expect(group.min).toBeLessThanOrEqual(group.median);
      expect(group.median).toBeLessThanOrEqual(group.p90);
      expect(group.p90).toBeLessThanOrEqual(group.max);
    }
  });

  it('pages measurements of a job and rejects bad paging', async () => {
    const job = await farm.api.submit({ name: 'paging', models: ['mobilenet_v2'], scenarios: ['on_device'], devices: { tags: [farm.tag], maxDevices: 2 }, iterations: 3 });
    await farm.api.waitForJob(job.id);
    const first = await farm.api.request<{ items: unknown[]; total: number }>('GET', `/api/jobs/${job.id}/measurements?limit=5`);
    expect(first.status).toBe(200);
    expect(first.body.total).toBe(2 * expectedRows('on_device', 3));
    expect(first.body.items).toHaveLength(5);
    const byPhase = await farm.api.request<{ total: number }>('GET', `/api/jobs/${job.id}/measurements?phase=model_load`);
    expect(byPhase.body.total).toBe(2);
    const bad = await farm.api.request<{ details: { path: string }[] }>('GET', `/api/jobs/${job.id}/measurements?limit=0&phase=warp`);
    expect(bad.status).toBe(400);
    expect(bad.body.details.map((d) => d.path).sort()).toEqual(['limit', 'phase']);
    const missing = await farm.api.request('GET', '/api/jobs/00000000-0000-4000-8000-000000000000/summary');
    expect(missing.status).toBe(404);
  });

  it('gives a job without its runs when asked, and names a bad runs flag', async () => {
    const job = await farm.api.submit({ name: 'no-runs', models: ['mobilenet_v2'], scenarios: ['on_device'], devices: { tags: [farm.tag], maxDevices: 2 }, iterations: 1 });
    const whole = await farm.api.request<JobView>('GET', `/api/jobs/${job.id}`);
    expect(whole.body.runs).toHaveLength(2);
    const bare = await farm.api.request<JobView>('GET', `/api/jobs/${job.id}?runs=false`);
    expect(bare.status).toBe(200);
    expect(bare.body).toMatchObject({ id: job.id, name: 'no-runs', progress: { total: 2 } });
    expect(bare.body).not.toHaveProperty('runs');
    const bad = await farm.api.request<{ details: { path: string }[] }>('GET', `/api/jobs/${job.id}?runs=no`);
    expect(bad.status).toBe(400);
    expect(bad.body.details.map((d) => d.path)).toEqual(['runs']);
    await farm.api.waitForJob(job.id);
  });
});

function label(g: SummaryGroup): string {
  return `${g.deviceModel}/${g.model}/${g.scenario}/${g.phase}`;
}
