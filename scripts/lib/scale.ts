import type { JobSpecInput } from '@farm/contracts';
import type { FarmApi } from '@farm/client';
import { quantile } from '@farm/stats';
import type { Client, Pool } from 'pg';

/** A connection or a pool: a bench that runs for minutes reads through a pool, which reconnects. */
type Db = Client | Pool;

/** Rows one run makes: a cold model load, then each iteration's phases (warm-up included). */
export function expectedRows(scenario: 'on_device' | 'cloud', iterations: number): number {
  return scenario === 'on_device' ? 1 + iterations * 4 : iterations * 8;
}

export interface ScaleFigures {
  runs: number;
  devices: number;
  /** Runs that did not pass with every row of their attempt stored. */
  lost: number;
  /** Runs that needed more than one attempt (none should, with no fault injected). */
  retried: number;
  /** The POST /api/jobs round trip: validation, fan-out into runs, enqueue. */
  submitMs: number;
  /** From the job's creation to its last run's finish, as PostgreSQL recorded them. */
  makespanS: number;
  /** The sum of the runs' durations (started_at to finished_at) divided by the devices. */
  idealS: number;
  /**
   * The same from what the devices measured: each run's leaf phases summed (model load, and each
   * iteration's client phases; totals and the server's sub-phases lie inside them), times the
   * share of modelled time a simulated phase really waits. Without the report path's latency.
   */
  idealFromPhasesS: number;
  /** The busiest device's runs' durations summed: no dispatch of runs bound to devices can beat it. */
  deviceBoundS: number;
  runsPerS: number;
  rows: number;
  /** From the job's creation to each device's first start, ms. */
  firstStartMs: { p50: number; p99: number; max: number };
  /** Between one run's finish and the next run's start on the same device, ms. */
  gapMs: { p50: number; p99: number; max: number };
}

interface RunRow {
  deviceId: string;
  scenario: 'on_device' | 'cloud';
  result: string | null;
  attempt: number;
  started: number;
  finished: number;
  rows: number;
  /** Sum of the run's leaf phases, ms, as measured. */
  phaseMs: number;
}

/**
 * Submits one job to every device with the tag, waits until PostgreSQL says it has finished
 * (polling the database, not the API under measurement), and tells how long it took against
 * what the runs themselves took.
 */
export async function runScaleJob(
  api: FarmApi,
  db: Db,
  spec: JobSpecInput & { iterations: number; warmup: number },
  options: { timeoutMs: number; pollMs?: number; onSubmitted?: () => Promise<void>; timeScale: number },
): Promise<ScaleFigures> {
  const submitted = performance.now();
  const job = await api.submit(spec);
  const submitMs = performance.now() - submitted;
  await options.onSubmitted?.();
  for (const started = Date.now(); ; ) {
    const { rows } = await db.query<{ done: boolean }>(`SELECT finished_at IS NOT NULL AS done FROM jobs WHERE id = $1`, [job.id]);
    if (rows[0]?.done) break;
    if (Date.now() - started > options.timeoutMs) throw new Error(`job ${job.id} did not finish within ${options.timeoutMs / 1000} s`);
    await new Promise((resolve) => setTimeout(resolve, options.pollMs ?? 500));
  }
  return scaleFigures(db, job.id, spec.iterations + spec.warmup, submitMs, options.timeScale);
}

async function scaleFigures(db: Db, jobId: string, iterations: number, submitMs: number, timeScale: number): Promise<ScaleFigures> {
  const { rows: runs } = await db.query<RunRow>(
    `SELECT r.device_id AS "deviceId", r.scenario::text AS scenario, r.result::text AS result, r.attempt,
            extract(epoch FROM r.started_at - j.created_at) * 1000 AS started,
            extract(epoch FROM r.finished_at - j.created_at) * 1000 AS finished,
            m.rows, m.phase_ms AS "phaseMs"
       FROM runs r JOIN jobs j ON j.id = r.job_id
       CROSS JOIN LATERAL (
         SELECT count(*)::int AS rows,
                coalesce(sum(duration_ms) FILTER (WHERE phase <> 'total' AND phase::text NOT LIKE 'server\\_%'), 0) AS phase_ms
           FROM measurements WHERE run_id = r.id AND attempt = r.attempt) m
      WHERE j.id = $1`,
    [jobId],
  );
  const byDevice = new Map<string, RunRow[]>();
  for (const run of runs) {
    run.started = Number(run.started);
    run.finished = Number(run.finished);
    run.phaseMs = Number(run.phaseMs);
    byDevice.set(run.deviceId, [...(byDevice.get(run.deviceId) ?? []), run]);
  }
  const busy = [...byDevice.values()].map((list) => list.reduce((sum, r) => sum + (r.finished - r.started), 0));
  const gaps: number[] = [];
  const firstStarts: number[] = [];
  for (const list of byDevice.values()) {
    list.sort((a, b) => a.started - b.started);
    firstStarts.push(list[0]?.started ?? Number.NaN);
    for (let i = 1; i < list.length; i++) gaps.push(list[i].started - list[i - 1].finished);
  }
  const makespanMs = Math.max(...runs.map((r) => r.finished));
  const rows = runs.reduce((sum, r) => sum + r.rows, 0);
  return {
    runs: runs.length,
    devices: byDevice.size,
    lost: runs.filter((r) => r.result !== 'passed' || r.rows !== expectedRows(r.scenario, iterations)).length,
    retried: runs.filter((r) => r.attempt > 1).length,
    submitMs,
    makespanS: makespanMs / 1000,
    idealS: busy.reduce((a, b) => a + b, 0) / byDevice.size / 1000,
    idealFromPhasesS: (runs.reduce((sum, r) => sum + r.phaseMs, 0) * timeScale) / byDevice.size / 1000,
    deviceBoundS: Math.max(...busy) / 1000,
    runsPerS: runs.length / (makespanMs / 1000),
    rows,
    firstStartMs: spread(firstStarts),
    gapMs: spread(gaps),
  };
}

function spread(values: number[]): { p50: number; p99: number; max: number } {
  if (values.length === 0) return { p50: Number.NaN, p99: Number.NaN, max: Number.NaN };
  return { p50: quantile(values, 0.5), p99: quantile(values, 0.99), max: Math.max(...values) };
}
