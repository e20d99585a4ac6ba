import { randomUUID } from 'node:crypto';
import { quantile, quantiles } from '@farm/stats';
import { Client } from 'pg';
import { DEFAULT_DATABASE_URL } from '@farm/db';
import { migrate } from '../db/migrate';
import { FarmApi, formatTable } from '@farm/client';
import { PreflightError, startStack } from '../lib/stack';

/**
 * `npm run bench:aggregate`: about 10 million measurement rows (generated, every row labelled
 * simulated) in a database of their own: 128 nightly jobs of 100 devices (10 device models) × 3
 * CNNs × 2 scenarios × 22 iterations. Then, through the API, the p50 of a job summary, a compare
 * of two nights and a 30-night series query, each beside the naive way (the rows fetched into
 * Node and worked out there) in the same run. Last line: aggregate_p50_ms=<slowest of the three>.
 */
const NIGHTS = 128;
const DEVICES = 100;
const DEVICE_MODELS = 10;
const ITERATIONS = 22;
const NAME = 'nightly-bench-aggregate';
const REPEATS = 7;
const EXPECTED_ROWS = NIGHTS * DEVICES * 3 * (1 + 12 * ITERATIONS);

function benchDatabaseUrl(): string {
  const url = new URL(process.env['DATABASE_URL'] ?? DEFAULT_DATABASE_URL);
  url.pathname = '/farm_bench_aggregate';
  return url.toString();
}

async function ensureDatabase(url: string): Promise<void> {
  const admin = new URL(url);
  admin.pathname = '/postgres';
  const client = new Client({ connectionString: admin.toString() });
  await client.connect();
  try {
    const name = new URL(url).pathname.slice(1);
    const { rowCount } = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
    if (!rowCount) await client.query(`CREATE DATABASE "${name}"`);
  } finally {
    await client.end();
  }
}

/** Loads the rows unless a previous run left exactly them; returns the seconds it took. */
async function load(db: Client): Promise<number | null> {
  const { rows } = await db.query<{ n: string }>('SELECT count(*) AS n FROM measurements');
  if (Number(rows[0]?.n) === EXPECTED_ROWS) return null;
  const started = performance.now();
  await db.query('TRUNCATE measurements, runs, jobs, devices, agents CASCADE');
  await db.query(`INSERT INTO agents (id, name, hostname, version, backends, state, session, last_heartbeat_at)
                  VALUES (gen_random_uuid(), 'bench-aggregate', 'bench', '0', '{simulated}', 'offline', gen_random_uuid(), now())`);
  await db.query(
    `INSERT INTO devices (id, backend, serial, agent_id, manufacturer, model, os_version, tags, properties, state, last_seen_at)
     SELECT gen_random_uuid(), 'simulated', 'bench-aggregate-' || i, (SELECT id FROM agents), 'Simulated', 'Simulated model ' || (i % $2),
            '14', '{bench-aggregate}', '{"simulated": true}', 'offline', now()
       FROM generate_series(1, $1) AS i`,
    [DEVICES, DEVICE_MODELS],
  );
  await db.query(
    `INSERT INTO jobs (id, name, spec, status, priority, iterations, warmup, network, max_attempts, deadline_at, created_at, started_at, finished_at)
     SELECT gen_random_uuid(), $1, '{"simulated": true}', 'finished', 5, $3, 0, 'wifi', 2, now(), t, t, t + interval '1 hour'
       FROM generate_series(1, $2) AS n, LATERAL (SELECT now() - ($2 - n) * interval '1 day' AS t) AS night`,
    [NAME, NIGHTS, ITERATIONS],
  );
  await db.query(
    `INSERT INTO runs (id, job_id, device_id, model, scenario, status, result, attempt, queued_at, started_at, finished_at)
     SELECT gen_random_uuid(), j.id, d.id, m, s::"Scenario", 'finished', 'passed', 1, j.created_at, j.created_at, j.finished_at
       FROM jobs j CROSS JOIN devices d CROSS JOIN unnest('{mobilenet_v2,mobilenet_v2_mid,inception_v3}'::text[]) AS m
            CROSS JOIN unnest('{on_device,cloud}'::text[]) AS s`,
  );
  // Log-normal-ish durations around a per-phase, per-CNN base; energy as 2 W × duration.
  await db.query(
    `INSERT INTO measurements (run_id, attempt, iteration, warmup, phase, duration_ms, energy_mj, energy_method)
     SELECT r.id, 1, it, false, ph::"Phase", d, 2 * d, 'simulated'
       FROM runs r
       CROSS JOIN LATERAL (
         SELECT 0 AS it, 'model_load' AS ph WHERE r.scenario = 'on_device'
         UNION ALL
         SELECT it, ph FROM generate_series(1, $1) AS it,
                unnest(CASE WHEN r.scenario = 'on_device' THEN '{preprocess,inference,postprocess,total}'::text[]
                            ELSE '{preprocess,upload,server,server_preprocess,server_inference,server_postprocess,download,total}'::text[] END) AS ph
       ) AS rows
       CROSS JOIN LATERAL (SELECT (CASE r.model WHEN 'inception_v3' THEN 8 WHEN 'mobilenet_v2_mid' THEN 2 ELSE 1 END)
                                  * (10 + length(ph)) * exp(0.2 * (random() - 0.5)) AS d) AS x`,
    [ITERATIONS],
  );
  await db.query('ANALYZE');
  return (performance.now() - started) / 1000;
}

interface Row {
  deviceModel: string;
  model: string;
  scenario: string;
  phase: string;
  durationMs: number;
}

/** The naive way: every row of a job into Node. */
async function rowsOf(db: Client, jobId: string): Promise<Row[]> {
  const { rows } = await db.query<Row>(
    `SELECT d.model AS "deviceModel", r.model, r.scenario::text AS scenario, m.phase::text AS phase, m.duration_ms AS "durationMs"
       FROM runs r JOIN devices d ON d.id = r.device_id JOIN measurements m ON m.run_id = r.id AND m.attempt = r.attempt
      WHERE r.job_id = $1 AND r.result = 'passed' AND NOT m.warmup`,
    [jobId],
  );
  return rows;
}

function groupDurations(rows: readonly Row[]): Map<string, number[]> {
  const groups = new Map<string, number[]>();
  for (const r of rows) {
    const key = `${r.deviceModel}/${r.model}/${r.scenario}/${r.phase}`;
    const list = groups.get(key) ?? [];
    list.push(r.durationMs);
    groups.set(key, list);
  }
  return groups;
}

async function timed(repeats: number, work: () => Promise<unknown>): Promise<number> {
  await work();
  const times: number[] = [];
  for (let i = 0; i < repeats; i++) {
    const started = performance.now();
    await work();
    times.push(performance.now() - started);
  }
  return quantile(times, 0.5);
}

async function main(): Promise<void> {
  const databaseUrl = benchDatabaseUrl();
  await ensureDatabase(databaseUrl);
  await migrate({ databaseUrl, log: () => undefined });
  // The naive way gets the planner settings the API's sessions have, so the comparison is of
  // where the work is done, not of query plans.
  const db = new Client({ connectionString: databaseUrl, options: '-c random_page_cost=1.1' });
  await db.connect();
  // Queues of its own, not the default ones a farm on the same Redis serves, gone when it stops.
  const stack = await startStack({ quiet: true, ownQueues: true, env: { DATABASE_URL: databaseUrl, QUEUE_PREFIX: `bench-aggregate-${randomUUID().slice(0, 8)}`, LOG_LEVEL: 'warn' } });
  try {
    const loaded = await load(db);
    const { rows: counted } = await db.query<{ n: string }>('SELECT count(*) AS n FROM measurements');
    console.log(`${Number(counted[0]?.n).toLocaleString('en')} measurement rows (simulated), ${loaded === null ? 'left by a previous run' : `loaded in ${loaded.toFixed(0)} s`}`);
    const { rows: nights } = await db.query<{ id: string }>(`SELECT id FROM jobs WHERE name = $1 ORDER BY created_at DESC LIMIT 2`, [NAME]);
    const [last, before] = nights.map((n) => n.id);
    if (!last || !before) throw new Error('the nightly jobs are missing');
    const api = new FarmApi(stack.apiUrl, { token: stack.token });
    const seriesQuery = `name=${NAME}&deviceModel=${encodeURIComponent('Simulated model 3')}&model=mobilenet_v2&scenario=on_device&phase=inference&limit=30`;
    const ok = async (path: string) => {
      const response = await api.request<unknown>('GET', path);
      if (response.status !== 200) throw new Error(`GET ${path}: ${response.status} ${JSON.stringify(response.body)}`);
    };

    const results = [
      {
        query: 'job summary',
        ours: await timed(REPEATS, () => ok(`/api/jobs/${last}/summary`)),
        naive: await timed(REPEATS, async () => {
          for (const values of groupDurations(await rowsOf(db, last)).values()) quantiles(values, [0.5, 0.9, 0.95, 0.99]);
        }),
      },
      {
        query: 'compare two nights',
        ours: await timed(REPEATS, () => ok(`/api/compare?a=${before}&b=${last}`)),
        naive: await timed(REPEATS, async () => {
          const [a, b] = await Promise.all([rowsOf(db, before), rowsOf(db, last)]);
          const groupsA = groupDurations(a);
          // The pairwise differences of each series, formed and sorted: the textbook Hodges–Lehmann.
          for (const [key, valuesB] of groupDurations(b)) {
            const valuesA = groupsA.get(key) ?? [];
            const differences = Float64Array.from(valuesB.flatMap((y) => valuesA.map((x) => y - x))).sort();
            quantile([...differences], 0.5);
          }
        }),
      },
      {
        query: '30-night series',
        ours: await timed(REPEATS, () => ok(`/api/series?${seriesQuery}`)),
        naive: await timed(REPEATS, async () => {
          const { rows: jobs } = await db.query<{ id: string }>(`SELECT id FROM jobs WHERE name = $1 ORDER BY created_at DESC LIMIT 30`, [NAME]);
          for (const job of jobs) {
            const values = groupDurations(await rowsOf(db, job.id)).get('Simulated model 3/mobilenet_v2/on_device/inference') ?? [];
            quantiles(values, [0.5, 0.9]);
          }
        }),
      },
    ];
    console.log(`\np50 of ${REPEATS} runs each after one warm-up, ms (ours: through the API; naive: rows fetched into Node)\n`);
    console.log(
      formatTable(
        ['query', 'ours p50 ms', 'naive p50 ms', 'naive/ours'],
        results.map((r) => [r.query, r.ours.toFixed(1), r.naive.toFixed(1), (r.naive / r.ours).toFixed(1)]),
      ),
    );
    console.log(`\naggregate_p50_ms=${Math.max(...results.map((r) => r.ours)).toFixed(1)}`);
  } finally {
    await db.end();
    await stack.stop();
  }
}

main().catch((error: unknown) => {
  console.error(error instanceof PreflightError ? error.message : error);
  process.exit(error instanceof PreflightError ? 2 : 1);
});
