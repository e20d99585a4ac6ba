import { Injectable } from '@nestjs/common';
import type {
  CompareResult,
  CompareSeries,
  CompareVerdict,
  JobSummary,
  Phase,
  Scenario,
  ScenarioBreakdown,
  SeriesKey,
  SeriesPoint,
  StudyAnswer,
  StudyPair,
  SummaryGroup,
} from '@farm/contracts';
import { hodgesLehmannShift, mannWhitneyU, median, ratioOfMediansCI } from '@farm/stats';
import { JobsService } from '../jobs/jobs.service';
import { PrismaService } from '../prisma/prisma.service';

/** The phases an iteration is made of; the server's sub-phases lie inside `server`. */
const LEAF_PHASES: Record<Scenario, readonly Phase[]> = {
  on_device: ['preprocess', 'inference', 'postprocess'],
  cloud: ['preprocess', 'upload', 'server', 'download'],
};

const CONFIDENCE = 0.95;
/** z of the two-sided 95% normal interval, for the median's order-statistic ranks. */
const Z95 = 1.959963984540054;

export interface SummaryOptions {
  includeWarmup: boolean;
  includeErrored: boolean;
}

export interface CompareOptions {
  alpha: number;
  minEffectPct: number;
  minN: number;
}

/** The rows a figure counts: current attempts, of passed runs and measured iterations unless asked. */
const COUNTED = `r.job_id = $1::uuid AND (r.result = 'passed' OR ($2 AND r.result IS NOT NULL)) AND ($3 OR NOT m.warmup)`;
const FROM_ROWS = `FROM runs r JOIN devices d ON d.id = r.device_id JOIN measurements m ON m.run_id = r.id AND m.attempt = r.attempt`;
const SERIES = `d.model, d.backend, r.model, r.scenario, m.phase, m.energy_method`;

interface SampleRow extends SeriesKey {
  durations: number[];
}

/**
 * The answers a farm is run for, computed where the rows are: per-series statistics in SQL
 * (ordered-set aggregates and window ranks over the job's rows, reached through the runs of
 * the job and the measurements' key), and the tests that need the samples (Mann–Whitney,
 * Hodges–Lehmann, bootstrap) on one job's iterations at a time.
 */
@Injectable()
export class AnalysisService {
  /** Summaries being computed, by job and options. */
  private readonly summaries = new Map<string, Promise<JobSummary>>();

  constructor(
    private readonly prisma: PrismaService,
    private readonly jobs: JobsService,
  ) {}

  /**
   * Per device model × model × scenario × phase (× backend × energy method, never mixed in one
   * figure, and the cold model load apart): n, mean, std, quantiles (PostgreSQL's
   * percentile_cont: type 7, as libs/stats), the median's interval, energy.
   */
  summary(jobId: string, options: SummaryOptions): Promise<JobSummary> {
    // A job's page asks for its summary and its study (which starts from the summary) at once:
    // requests that arrive while the same summary is being computed share its answer.
    const key = `${jobId}/${options.includeWarmup}/${options.includeErrored}`;
    let pending = this.summaries.get(key);
    if (!pending) {
      pending = this.computeSummary(jobId, options).finally(() => this.summaries.delete(key));
      this.summaries.set(key, pending);
    }
    return pending;
  }

  private async computeSummary(jobId: string, options: SummaryOptions): Promise<JobSummary> {
    await this.jobs.requireJob(jobId);
    // One pass over the job's rows: each group sorted once for the quantiles and once into an
    // array, whose order statistics give the median's interval.
    const groups = await this.prisma.sql.query<Omit<SummaryGroup, 'p50' | 'median' | 'p90' | 'p95' | 'p99' | 'medianCi'> & { q: number[]; ciLower: number | null; ciUpper: number | null }>(
      `SELECT "deviceModel", backend, model, scenario, phase, "energyMethod", cold, n, mean, std, q, min, max, "energyMj",
              CASE WHEN n >= 6 THEN sorted[greatest(1, floor((n - $4 * sqrt(n)) / 2))::int] END AS "ciLower",
              CASE WHEN n >= 6 THEN sorted[least(n, ceil(1 + (n + $4 * sqrt(n)) / 2))::int] END AS "ciUpper"
         FROM (
           SELECT d.model AS "deviceModel", d.backend::text AS backend, r.model, r.scenario::text AS scenario, m.phase::text AS phase,
                  m.energy_method::text AS "energyMethod", (m.phase = 'model_load' AND m.iteration = 0) AS cold,
                  count(*)::int AS n, avg(m.duration_ms) AS mean, stddev_samp(m.duration_ms) AS std,
                  percentile_cont('{0.5,0.9,0.95,0.99}'::float8[]) WITHIN GROUP (ORDER BY m.duration_ms) AS q,
                  min(m.duration_ms) AS min, max(m.duration_ms) AS max, avg(m.energy_mj) AS "energyMj",
                  array_agg(m.duration_ms ORDER BY m.duration_ms) AS sorted
             ${FROM_ROWS}
            WHERE ${COUNTED}
            GROUP BY ${SERIES}, cold
         ) AS g
        ORDER BY "deviceModel", model, scenario, phase, cold DESC, backend, "energyMethod"`,
      [jobId, options.includeErrored, options.includeWarmup, Z95],
    );
    return {
      jobId,
      ...options,
      groups: groups.map(({ q, ciLower, ciUpper, ...g }) => {
        const [p50 = NaN, p90 = NaN, p95 = NaN, p99 = NaN] = q;
        return {
          ...g,
          median: p50,
          p50,
          p90,
          p95,
          p99,
          medianCi: ciLower === null || ciUpper === null ? null : { lower: ciLower, upper: ciUpper, confidence: CONFIDENCE },
        };
      }),
    };
  }

  /**
   * The study's questions for each device model × CNN: each scenario's phases and their shares
   * of an iteration, its bottleneck, the cold model load, energy per inference, and on-device
   * against cloud as a ratio of median totals with a bootstrap interval.
   */
  async study(jobId: string): Promise<StudyAnswer> {
    const [summary, totals] = await Promise.all([this.summary(jobId, { includeWarmup: false, includeErrored: false }), this.samples(jobId, ['total'])]);
    // The bootstrap below holds the CPU for a while: let answers that were waiting on the same
    // summary go out first.
    await new Promise((resolve) => setImmediate(resolve));
    const key = (g: { deviceModel: string; backend: string; model: string }) => `${g.deviceModel}\u0000${g.backend}\u0000${g.model}`;
    const pairs = new Map<string, StudyPair>();
    for (const g of summary.groups) {
      if (!pairs.has(key(g))) pairs.set(key(g), { deviceModel: g.deviceModel, backend: g.backend, model: g.model, onDevice: null, cloud: null, ratio: null });
    }
    for (const pair of pairs.values()) {
      const groups = summary.groups.filter((g) => key(g) === key(pair));
      pair.onDevice = breakdown(groups, 'on_device');
      pair.cloud = breakdown(groups, 'cloud');
      const onDevice = totals.find((t) => key(t) === key(pair) && t.scenario === 'on_device')?.durations;
      const cloud = totals.find((t) => key(t) === key(pair) && t.scenario === 'cloud')?.durations;
      if (onDevice && cloud && onDevice.length > 0 && cloud.length > 0 && [...onDevice, ...cloud].every((v) => v > 0)) {
        const ci = ratioOfMediansCI(onDevice, cloud, { seed: `${jobId}/${key(pair)}`, confidence: CONFIDENCE });
        pair.ratio = { estimate: ci.estimate, lower: ci.lower, upper: ci.upper, confidence: ci.confidence };
      }
    }
    return { jobId, pairs: [...pairs.values()] };
  }

  /** Job B against job A, series by series: the shift, its size, its significance and a verdict. */
  async compare(a: string, b: string, options: CompareOptions): Promise<CompareResult> {
    const [left, right] = await Promise.all([this.jobs.requireJob(a).then(() => this.samples(a)), this.jobs.requireJob(b).then(() => this.samples(b))]);
    const key = (s: SampleRow) => Object.values(seriesKeyOf(s)).join('\u0000');
    const inA = new Map(left.map((s) => [key(s), s]));
    const series: CompareSeries[] = [];
    for (const sb of right) {
      const sa = inA.get(key(sb));
      if (!sa || sa.durations.length === 0 || sb.durations.length === 0) continue;
      const medianA = median(sa.durations);
      const shiftMs = hodgesLehmannShift(sa.durations, sb.durations);
      const test = mannWhitneyU(sa.durations, sb.durations);
      const changePct = medianA === 0 ? 0 : (100 * shiftMs) / medianA;
      series.push({
        ...seriesKeyOf(sb),
        a: { n: sa.durations.length, median: medianA },
        b: { n: sb.durations.length, median: median(sb.durations) },
        shiftMs,
        changePct,
        p: test.p,
        test: test.method,
        verdict: verdict(sa.durations.length, sb.durations.length, test.p, changePct, options),
      });
    }
    return { a, b, ...options, series };
  }

  /** A series' figures job by job, newest first: the jobs of a name (a schedule's nights, say). */
  async series(filter: { name: string; deviceModel: string; model: string; scenario: Scenario; phase: Phase; limit: number }): Promise<SeriesPoint[]> {
    return this.prisma.sql.query<SeriesPoint>(
      `WITH j AS (
         SELECT id, name, created_at FROM jobs WHERE name = $1 AND finished_at IS NOT NULL ORDER BY created_at DESC LIMIT $6
       )
       SELECT j.id AS "jobId", j.name AS "jobName", j.created_at AS "createdAt", count(*)::int AS n,
              percentile_cont(0.5) WITHIN GROUP (ORDER BY m.duration_ms) AS median,
              percentile_cont(0.9) WITHIN GROUP (ORDER BY m.duration_ms) AS p90, avg(m.energy_mj) AS "energyMj"
         FROM j JOIN runs r ON r.job_id = j.id AND r.result = 'passed' AND r.model = $3 AND r.scenario = $4::"Scenario"
         JOIN devices d ON d.id = r.device_id AND d.model = $2
         JOIN measurements m ON m.run_id = r.id AND m.attempt = r.attempt AND m.phase = $5::"Phase" AND NOT m.warmup
        GROUP BY j.id, j.name, j.created_at
        ORDER BY j.created_at DESC`,
      [filter.name, filter.deviceModel, filter.model, filter.scenario, filter.phase, filter.limit],
    ).then((points) => points.map((p) => ({ ...p, createdAt: new Date(p.createdAt).toISOString() })));
  }

  /** Each series' measured iterations of passed runs, as arrays built in SQL. */
  private samples(jobId: string, phases?: readonly Phase[]): Promise<SampleRow[]> {
    return this.prisma.sql.query<SampleRow>(
      `SELECT d.model AS "deviceModel", d.backend::text AS backend, r.model, r.scenario::text AS scenario, m.phase::text AS phase,
              m.energy_method::text AS "energyMethod", array_agg(m.duration_ms) AS durations
         ${FROM_ROWS}
        WHERE ${COUNTED} AND ($4::"Phase"[] IS NULL OR m.phase = ANY($4::"Phase"[]))
        GROUP BY ${SERIES}`,
      [jobId, false, false, phases ?? null],
    );
  }
}

function seriesKeyOf({ deviceModel, backend, model, scenario, phase, energyMethod }: SeriesKey): SeriesKey {
  return { deviceModel, backend, model, scenario, phase, energyMethod };
}

/** A scenario's breakdown from its summary groups; null when it did not run. */
function breakdown(groups: readonly SummaryGroup[], scenario: Scenario): ScenarioBreakdown | null {
  const of = groups.filter((g) => g.scenario === scenario);
  const total = of.find((g) => g.phase === 'total');
  if (!total) return null;
  const shares = LEAF_PHASES[scenario].flatMap((phase) => {
    const g = of.find((x) => x.phase === phase && !x.cold);
    return g ? [{ phase, meanMs: g.mean, share: g.mean / total.mean }] : [];
  });
  const bottleneck = shares.reduce((best, s) => (s.meanMs > best.meanMs ? s : best), shares[0] ?? { phase: 'total', meanMs: 0, share: 0 });
  const rest = total.mean - shares.reduce((sum, s) => sum + s.meanMs, 0);
  const load = of.find((g) => g.phase === 'model_load' && g.cold);
  return {
    n: total.n,
    medianTotalMs: total.median,
    meanTotalMs: total.mean,
    shares: [...shares, { phase: 'other', meanMs: rest, share: rest / total.mean }],
    bottleneck: bottleneck.phase,
    coldStart: load ? { modelLoadMs: load.median, iterations: load.median / total.median } : null,
    energyPerInferenceMj: total.energyMj,
    energyMethod: total.energyMethod,
  };
}

/**
 * Too few iterations: inconclusive. A shift smaller than minEffectPct of A's median: same. A
 * larger one that the test finds significant: faster or slower. A larger one it does not:
 * inconclusive (more iterations would tell).
 */
export function verdict(nA: number, nB: number, p: number, changePct: number, options: CompareOptions): CompareVerdict {
  if (nA < options.minN || nB < options.minN) return 'inconclusive';
  if (Math.abs(changePct) < options.minEffectPct) return 'same';
  if (p >= options.alpha) return 'inconclusive';
  return changePct > 0 ? 'slower' : 'faster';
}
