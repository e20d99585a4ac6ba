import type { CompareResult, JobSummary, JobView, SeriesPoint, StudyAnswer } from '@farm/contracts';
import { startTestFarm, until, type TestFarm } from './support';

/**
 * The analysis endpoints against the real Postgres with known data: real jobs run on simulated
 * devices, then their measurements are replaced with figures whose statistics are worked out
 * by hand below.
 */
describe('analysis', () => {
  let farm: TestFarm;

  /** A finished job on the farm's one simulated device: mobilenet_v2, both scenarios. */
  async function job(name: string): Promise<JobView> {
    const created = await farm.api.submit({ name, models: ['mobilenet_v2'], scenarios: ['on_device', 'cloud'], devices: { tags: [farm.tag] }, iterations: 1 });
    return farm.api.waitForJob(created.id, { timeoutMs: 30_000 });
  }

  /** Replaces a run's rows with `durations` of one phase for iterations 1.., plus extra rows. */
  async function setRows(runId: string, rows: { phase: string; iteration: number; warmup?: boolean; durationMs: number; energyMj?: number | null }[]): Promise<void> {
    await farm.db.query('DELETE FROM measurements WHERE run_id = $1', [runId]);
    await farm.db.query(
      `INSERT INTO measurements (run_id, attempt, iteration, warmup, phase, duration_ms, energy_mj, energy_method)
       SELECT $1, 1, i, w, p::"Phase", d, e, 'simulated' FROM unnest($2::int[], $3::bool[], $4::text[], $5::float8[], $6::float8[]) AS x(i, w, p, d, e)`,
      [runId, rows.map((r) => r.iteration), rows.map((r) => r.warmup ?? false), rows.map((r) => r.phase), rows.map((r) => r.durationMs), rows.map((r) => r.energyMj ?? null)],
    );
  }
  const range = (n: number, f: (i: number) => number) => Array.from({ length: n }, (_, k) => f(k + 1));
  const runOf = (j: JobView, scenario: string) => {
    const run = j.runs?.find((r) => r.scenario === scenario);
    if (!run) throw new Error(`no ${scenario} run`);
    return run.id;
  };

  beforeAll(async () => {
    farm = await startTestFarm([{ name: 'analysis', env: { SIM_DEVICES: '1', SIM_PROFILES: 'flagship' } }]);
    await until(async () => (await farm.api.request<unknown[]>('GET', `/api/devices?tag=${farm.tag}&state=available`)).body.length === 1, 30_000, 'the agent');
  });
  afterAll(() => farm.stop());

  it('summarises each series in SQL: n, mean, std, type-7 quantiles, the median interval; warm-up left out unless asked', async () => {
    const j = await job('summary');
    const run = runOf(j, 'on_device');
    await setRows(run, [
      ...range(100, (i) => i).map((d, k) => ({ phase: 'inference', iteration: k + 1, durationMs: d, energyMj: 2 * d })),
      { phase: 'inference', iteration: 101, warmup: true, durationMs: 1000 },
      { phase: 'model_load', iteration: 0, durationMs: 50 },
    ]);
    const summary = (await farm.api.request<JobSummary>('GET', `/api/jobs/${j.id}/summary`)).body;
    const inference = summary.groups.find((g) => g.scenario === 'on_device' && g.phase === 'inference');
    // 1..100: mean 50.5; variance Σ(i − 50.5)²/99 = 83325/99 = 841.67, std 29.0115; type 7:
    // p at 1 + p·99, so p50 = 50.5, p90 = 90.1, p95 = 95.05, p99 = 99.01. Median interval for
    // n = 100: ranks ⌊(100 − 1.96·10)/2⌋ = 40 and ⌈1 + (100 + 1.96·10)/2⌉ = 61.
    expect(inference).toMatchObject({ cold: false, n: 100, mean: 50.5, median: 50.5, p50: 50.5, min: 1, max: 100, energyMj: 101 });
    expect(inference?.std).toBeCloseTo(29.011492, 5);
    expect(inference?.p90).toBeCloseTo(90.1, 9);
    expect(inference?.p95).toBeCloseTo(95.05, 9);
    expect(inference?.p99).toBeCloseTo(99.01, 9);
    expect(inference?.medianCi).toEqual({ lower: 40, upper: 61, confidence: 0.95 });
    expect(summary.groups.find((g) => g.phase === 'model_load')).toMatchObject({ cold: true, n: 1, std: null, medianCi: null });

    const withWarmup = (await farm.api.request<JobSummary>('GET', `/api/jobs/${j.id}/summary?includeWarmup=true`)).body;
    expect(withWarmup.groups.find((g) => g.scenario === 'on_device' && g.phase === 'inference')).toMatchObject({ n: 101, max: 1000 });
    expect(withWarmup.includeWarmup).toBe(true);

    const bad = await farm.api.request<{ details: { path: string }[] }>('GET', `/api/jobs/${j.id}/summary?includeWarmup=yes`);
    expect(bad.status).toBe(400);
    expect(bad.body.details[0]?.path).toBe('includeWarmup');
  });

  it("answers the study's questions: shares, bottleneck, cold start, energy per inference, on-device ÷ cloud", async () => {
    const j = await job('study');
    // on_device, 20 iterations: preprocess 10, inference 80, postprocess 5, total 100 (5 ms of gaps); cold load 300.
    await setRows(runOf(j, 'on_device'), [
      { phase: 'model_load', iteration: 0, durationMs: 300 },
      ...range(20, (i) => i).flatMap((i) => [
        { phase: 'preprocess', iteration: i, durationMs: 10 },
        { phase: 'inference', iteration: i, durationMs: 80 },
        { phase: 'postprocess', iteration: i, durationMs: 5 },
        { phase: 'total', iteration: i, durationMs: 100, energyMj: 40 },
      ]),
    ]);
    // cloud, 20 iterations: preprocess 5, upload 10, server 20, download 5, total 40.
    await setRows(runOf(j, 'cloud'), [
      ...range(20, (i) => i).flatMap((i) => [
        { phase: 'preprocess', iteration: i, durationMs: 5 },
        { phase: 'upload', iteration: i, durationMs: 10 },
        { phase: 'server', iteration: i, durationMs: 20 },
        { phase: 'server_inference', iteration: i, durationMs: 15 },
        { phase: 'download', iteration: i, durationMs: 5 },
        { phase: 'total', iteration: i, durationMs: 40, energyMj: 12 },
      ]),
    ]);
    const study = (await farm.api.request<StudyAnswer>('GET', `/api/jobs/${j.id}/study`)).body;
    expect(study.pairs).toHaveLength(1);
    const [pair] = study.pairs;
    expect(pair?.onDevice).toMatchObject({
      n: 20,
      medianTotalMs: 100,
      bottleneck: 'inference',
      coldStart: { modelLoadMs: 300, iterations: 3 },
      energyPerInferenceMj: 40,
      shares: [
        { phase: 'preprocess', meanMs: 10, share: 0.1 },
        { phase: 'inference', meanMs: 80, share: 0.8 },
        { phase: 'postprocess', meanMs: 5, share: 0.05 },
        { phase: 'other', meanMs: 5, share: 0.05 },
      ],
    });
    expect(pair?.cloud).toMatchObject({ medianTotalMs: 40, bottleneck: 'server', coldStart: null, energyPerInferenceMj: 12 });
    expect(pair?.cloud?.shares.map((s) => s.phase)).toEqual(['preprocess', 'upload', 'server', 'download', 'other']);
    // Every resample of constant samples has the same medians: the interval is the estimate.
    expect(pair?.ratio).toEqual({ estimate: 2.5, lower: 2.5, upper: 2.5, confidence: 0.95 });
  });

  it('compares two jobs series by series, with a verdict, and reads a series across jobs', async () => {
    const a = await job('nightly');
    const b = await job('nightly');
    // inference: A = 1..20, B = A + 0.5: the shift is 0.5, 4.8% of A's median 10.5, under 5%: same.
    // total: A = 1..20, B = 51..70: every B above every A, U = 0; exact two-sided p = 2/C(40, 20).
    // preprocess: 5 iterations each, below minN: inconclusive.
    for (const [j, offset, totalOffset] of [
      [a, 0, 0],
      [b, 0.5, 50],
    ] as const) {
      await setRows(runOf(j, 'on_device'), [
        ...range(20, (i) => i).flatMap((i) => [
          { phase: 'inference', iteration: i, durationMs: i + offset },
          { phase: 'total', iteration: i, durationMs: i + totalOffset },
        ]),
        ...range(5, (i) => i).map((i) => ({ phase: 'preprocess', iteration: i, durationMs: i + totalOffset })),
      ]);
    }
    const result = (await farm.api.request<CompareResult>('GET', `/api/compare?a=${a.id}&b=${b.id}`)).body;
    const series = (phase: string) => result.series.find((s) => s.scenario === 'on_device' && s.phase === phase);
    expect(series('inference')).toMatchObject({ a: { n: 20, median: 10.5 }, b: { n: 20, median: 11 }, shiftMs: 0.5, verdict: 'same' });
    expect(series('inference')?.changePct).toBeCloseTo((100 * 0.5) / 10.5, 9);
    expect(series('total')).toMatchObject({ shiftMs: 50, test: 'exact', verdict: 'slower' });
    expect(series('total')?.p).toBeCloseTo(2 / 137846528820, 20);
    expect(series('preprocess')).toMatchObject({ verdict: 'inconclusive' });
    expect(result).toMatchObject({ alpha: 0.05, minEffectPct: 5, minN: 10 });

    const reversed = (await farm.api.request<CompareResult>('GET', `/api/compare?a=${b.id}&b=${a.id}&minEffectPct=1`)).body;
    expect(reversed.series.find((s) => s.scenario === 'on_device' && s.phase === 'total')).toMatchObject({ shiftMs: -50, verdict: 'faster' });

    const deviceModel = (await farm.api.request<{ model: string }[]>('GET', `/api/devices?tag=${farm.tag}`)).body[0]?.model ?? '';
    const points = (
      await farm.api.request<SeriesPoint[]>(
        'GET',
        `/api/series?name=nightly&deviceModel=${encodeURIComponent(deviceModel)}&model=mobilenet_v2&scenario=on_device&phase=total`,
      )
    ).body;
    expect(points.map((p) => [p.jobId, p.n, p.median])).toEqual([
      [b.id, 20, 60.5],
      [a.id, 20, 10.5],
    ]);
  });

  it('answers bad compare and series requests with the field at fault', async () => {
    const cases: [string, number, RegExp][] = [
      ['/api/compare?a=not-a-uuid&b=00000000-0000-4000-8000-000000000000', 400, /"path":"a"/],
      ['/api/compare?a=00000000-0000-4000-8000-000000000000', 400, /"path":"b"/],
      ['/api/compare?a=00000000-0000-4000-8000-000000000000&b=00000000-0000-4000-8000-000000000001&alpha=2', 400, /"path":"alpha"/],
      ['/api/compare?a=00000000-0000-4000-8000-000000000000&b=00000000-0000-4000-8000-000000000001', 404, /does not exist/],
      ['/api/series?name=x&deviceModel=y&model=z&scenario=edge&phase=total', 400, /"path":"scenario"/],
      ['/api/series?name=x&deviceModel=y&model=z&scenario=cloud&phase=total&limit=0', 400, /"path":"limit"/],
      ['/api/jobs/00000000-0000-4000-8000-000000000000/study', 404, /does not exist/],
    ];
    for (const [path, status, body] of cases) {
      const response = await farm.api.request<unknown>('GET', path);
      expect([path, response.status]).toEqual([path, status]);
      expect(JSON.stringify(response.body)).toMatch(body);
    }
  });
});
