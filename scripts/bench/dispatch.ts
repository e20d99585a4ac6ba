import { randomUUID } from 'node:crypto';
import { cpus } from 'node:os';
import { DEFAULT_REDIS_URL, PHASES_BY_SCENARIO, deviceQueueName, type Measurement, type Phase, type RunAssignment, type Scenario } from '@farm/contracts';
import { quantile } from '@farm/stats';
import { Job, Queue, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { Client, Pool } from 'pg';
import { FarmApi, formatTable } from '@farm/client';
import type { ApiConfig } from '../../apps/api/src/config/config';
import { DispatchService } from '../../apps/api/src/dispatch/dispatch.service';
import { sqlOf } from '../../apps/api/src/prisma/prisma.service';
import { RedisService } from '../../apps/api/src/redis/redis';
import { RunsRepository } from '../../apps/api/src/runs/runs.repository';
import { REPORT_LANES } from '../../device-agent/src/reporter';
import { cpuSpent, cpuTimes } from '../lib/cpu';
import { PreflightError, startStack } from '../lib/stack';
import { waitForWorkers } from '../lib/workers';

/**
 * `npm run bench:dispatch`: 1,000 zero-length runs on 100 simulated devices through the whole
 * farm (REST submit, fan-out, per-device queues, agent claims and reports, results in Postgres),
 * beside raw BullMQ add-and-process of 1,000 jobs on 100 queues with one worker each, on the
 * same Redis, in the same run, and beside the floor: BullMQ and the farm's own Postgres writes
 * for the same runs in one process, with none of the rest of the farm. Its ratio to raw BullMQ
 * is the line before the last, floor_ratio=<floor/raw>; the last is dispatch_ratio=<ours/raw>.
 */
const DEVICES = 100;
const RUNS = 1_000;
const JOBS = RUNS / (DEVICES * 2);

interface Figures {
  /** Throughput of every measured round, in the order they ran (on the path's figures only). */
  rounds?: number[];
  seconds: number;
  perSecond: number;
  p50: number;
  p99: number;
  /** CPU ms each process (or kind of process) spent on the round, where /proc tells. */
  cpu: Map<string, number>;
  /** Cores the path kept busy on average: its CPU over its rounds' time. */
  busy?: number;
}

/**
 * The figures of a path: its round of median throughput, and the CPU its processes spent on a
 * round on average (/proc counts in 10 ms ticks, which one short round alone blurs).
 */
function summarise(rounds: readonly Figures[]): Figures {
  const cpu = new Map<string, number>();
  for (const round of rounds) for (const [name, ms] of round.cpu) cpu.set(name, (cpu.get(name) ?? 0) + ms / rounds.length);
  const seconds = rounds.reduce((sum, f) => sum + f.seconds, 0) / rounds.length;
  return { ...median(rounds), rounds: rounds.map((f) => f.perSecond), cpu, busy: totalCpu(cpu) / (seconds * 1000) };
}

function totalCpu(cpu: ReadonlyMap<string, number>): number {
  return [...cpu.values()].reduce((a, b) => a + b, 0);
}

const SERVERS = ['postgres', 'redis-server'];

/**
 * Each path runs WARM_UP unmeasured rounds first, so both are measured with their code paths
 * warm (raw BullMQ's rounds still sped up from 6,700 to 11,800 runs/s over the first five), then
 * MEASURED rounds; the round of median throughput stands for the path. A round of raw BullMQ
 * lasts a few tens of milliseconds, so one round alone is mostly noise.
 */
const WARM_UP = 3;
const MEASURED = 5;
const ROUNDS = [...Array.from({ length: WARM_UP }, () => 'warm-up'), ...Array.from({ length: MEASURED }, (_, i) => `measured-${i + 1}`)];

/** The round of median throughput (the middle one of an odd count). */
function median(rounds: readonly Figures[]): Figures {
  const sorted = [...rounds].sort((a, b) => a.perSecond - b.perSecond);
  const middle = sorted[Math.floor(sorted.length / 2)];
  if (!middle) throw new Error('no round ran');
  return middle;
}

/** What a path hears of its round: runs that are through, or the error that ends the bench. */
interface RoundEvents {
  through(runs: number): void;
  fail(error: unknown): void;
}

/**
 * A path that runs inside this process on BullMQ alone: DEVICES queues with one worker of
 * concurrency 1 each. `submit` queues a round's RUNS jobs; `handle` takes each job a worker
 * took and tells the round when its runs are through (at once, or once a batch is stored).
 */
interface QueuePath {
  submit(queues: readonly Queue[], round: string): Promise<void>;
  handle(job: Job, round: RoundEvents): void;
}

async function queuePath(redisUrl: string, prefix: string, names: readonly string[], path: QueuePath): Promise<Figures> {
  const connection = new Redis(redisUrl, { maxRetriesPerRequest: null });
  const queues = names.map((name) => new Queue(name, { connection, prefix }));
  let round = { latencies: [] as number[], through: 0, done: () => undefined as void, fail: (_error: unknown) => undefined as void };
  const events: RoundEvents = {
    through: (runs) => {
      round.through += runs;
      if (round.through === RUNS) round.done();
    },
    fail: (error) => round.fail(error),
  };
  const workers = names.map(
    (name) =>
      new Worker(
        name,
        (job) => {
          round.latencies.push(Date.now() - job.timestamp);
          path.handle(job, events);
          return Promise.resolve();
        },
        { connection, prefix, concurrency: 1 },
      ),
  );
  await Promise.all(workers.map((w) => w.waitUntilReady()));
  const measured: Figures[] = [];
  for (const name of ROUNDS) {
    const all = new Promise<void>((resolve, reject) => (round = { latencies: [], through: 0, done: resolve, fail: reject }));
    const cpuBefore = cpuTimes();
    const started = performance.now();
    await path.submit(queues, name);
    await all;
    const seconds = (performance.now() - started) / 1000;
    const cpu = cpuSpent(cpuBefore, cpuTimes(), new Map([[process.pid, 'bench']]), SERVERS);
    if (name !== 'warm-up') measured.push({ seconds, perSecond: RUNS / seconds, p50: quantile(round.latencies, 0.5), p99: quantile(round.latencies, 0.99), cpu });
  }
  await Promise.all(workers.map((w) => w.close()));
  await Promise.all(queues.map((q) => q.obliterate({ force: true }).then(() => q.close())));
  await connection.quit();
  return summarise(measured);
}

/** Raw BullMQ: each round adds RUNS jobs to the queues, RUNS / DEVICES each, and the workers take them. */
function rawBullmq(redisUrl: string): Promise<Figures> {
  return queuePath(
    redisUrl,
    `bench-raw-${randomUUID().slice(0, 8)}`,
    Array.from({ length: DEVICES }, (_, i) => `device.${i}`),
    {
      submit: async (queues) => {
        await Promise.all(
          queues.map((queue) =>
            queue.addBulk(Array.from({ length: RUNS / DEVICES }, (_, i) => ({ name: 'run', data: { i }, opts: { removeOnComplete: true, priority: 5 } }))),
          ),
        );
      },
      handle: (_job, round) => round.through(1),
    },
  );
}

/**
 * The floor: what any farm must do for the issue's round, and nothing else, in this process on
 * the farm's own database and code. Each of JOBS jobs and its runs go in with one statement, the
 * farm's enqueue puts the runs on the devices' queues, workers take them at once, and what they
 * took is stored as the API stores reports, in up to as many transactions side by side as an
 * agent has report lanes: the batch keys, the measurement rows a run of the scenario makes, the
 * runs ended as passed (claim and finish in one update), and after the commit the jobs finished.
 * No REST, no agent process, no HTTP, no validation, no outbox, leases or device states: a farm
 * that does all of those can only be slower than this.
 */
async function floor(redisUrl: string, databaseUrl: string, deviceIds: readonly string[]): Promise<Figures> {
  const pool = new Pool({ connectionString: databaseUrl, max: JOBS + REPORT_LANES });
  const prefix = `bench-floor-${randomUUID().slice(0, 8)}`;
  const redis = new RedisService({ REDIS_URL: redisUrl, QUEUE_PREFIX: prefix } as ApiConfig);
  const dispatch = new DispatchService(redis);
  const runs = new RunsRepository();
  // The rows the simulator makes for a zero-length run of each scenario: the model load at
  // iteration 0 (on the device only), then the scenario's phases.
  const rows = (phases: readonly Phase[]): Measurement[] =>
    phases.map((phase) => ({ iteration: phase === 'model_load' ? 0 : 1, warmup: false, phase, durationMs: 0, energyMj: 0, energyMethod: 'simulated' }));
  const rowsOf: Record<Scenario, Measurement[]> = { on_device: rows(['model_load', ...PHASES_BY_SCENARIO.on_device]), cloud: rows(PHASES_BY_SCENARIO.cloud) };
  let taken: RunAssignment[] = [];
  let storing = 0;
  const store = async (round: RoundEvents) => {
    storing++;
    while (taken.length > 0) {
      const batch = taken;
      taken = [];
      const client = await pool.connect();
      try {
        await client.query('BEGIN');
        const tx = sqlOf(client);
        await runs.recordBatches(tx, batch.map((a) => ({ runId: a.runId, attempt: a.attempt, batch: 0, rows: rowsOf[a.scenario].length })));
        await runs.insertMeasurements(tx, batch.map((a) => ({ runId: a.runId, attempt: a.attempt, rows: rowsOf[a.scenario] })));
        const end = (a: RunAssignment) => ({ id: a.runId, status: 'finished' as const, result: 'passed' as const, attempt: a.attempt, errorKind: null, errorMessage: null });
        await runs.updateRuns(tx, batch.map((a) => ({ id: a.runId, status: 'finished', claimed: true, end: end(a) })), 0);
        await client.query('COMMIT');
      } catch (error) {
        await client.query('ROLLBACK');
        throw error;
      } finally {
        client.release();
      }
      // After the commit, as the API asks it: side by side, one transaction cannot see the other's runs.
      await runs.finishCompletedJobs(sqlOf(pool), batch.map((a) => a.jobId));
      round.through(batch.length);
    }
    storing--;
  };
  try {
    return await queuePath(redisUrl, prefix, deviceIds.map(deviceQueueName), {
      submit: async (_queues, round) => {
        await Promise.all(
          Array.from({ length: JOBS }, async (_, i) => {
            const { rows } = await pool.query<{ id: string; jobId: string; deviceId: string; scenario: Scenario }>(
              `WITH job AS (
                 INSERT INTO jobs (id, name, spec, priority, iterations, warmup, network, max_attempts, deadline_at)
                 VALUES (gen_random_uuid(), $1, '{}', 5, 1, 0, 'wifi', 1, now() + interval '1 hour') RETURNING id
               )
               INSERT INTO runs (id, job_id, device_id, model, scenario)
               SELECT gen_random_uuid(), job.id, d, 'mobilenet_v2', s::"Scenario" FROM job, unnest($2::text[]) AS s, unnest($3::uuid[]) AS d
               RETURNING id, job_id AS "jobId", device_id AS "deviceId", scenario::text AS scenario`,
              [`bench-dispatch-floor-${round}-${i}`, ['on_device', 'cloud'], deviceIds],
            );
            await dispatch.enqueue(
              rows.map((run) => ({
                priority: 5,
                assignment: { runId: run.id, jobId: run.jobId, attempt: 1, deviceId: run.deviceId, model: 'mobilenet_v2', scenario: run.scenario, iterations: 1, warmup: 0, network: 'wifi', deadlineAt: new Date().toISOString() },
              })),
            );
          }),
        );
      },
      handle: (job: Job<RunAssignment>, round) => {
        taken.push(job.data);
        if (storing < REPORT_LANES) store(round).catch((error: unknown) => round.fail(error));
      },
    });
  } finally {
    await dispatch.beforeApplicationShutdown();
    await redis.onApplicationShutdown();
    await pool.end();
  }
}

async function farmRound(api: FarmApi, db: Client, round: string, processes: ReadonlyMap<number, string>): Promise<Figures> {
  const cpuBefore = cpuTimes();
  const started = performance.now();
  // Submitted side by side, as several users or a schedule would.
  const jobs = await Promise.all(
    Array.from({ length: JOBS }, (_, i) =>
      api.submit({
        name: `bench-dispatch-${round}-${i}`,
        models: ['mobilenet_v2'],
        scenarios: ['on_device', 'cloud'],
        devices: { backend: 'simulated', tags: ['bench-dispatch'] },
        iterations: 1,
      }),
    ),
  );
  const ids = jobs.map((j) => j.id);
  // Completion is read from Postgres, not by polling the API, which would load the process
  // under measurement with the bench's own reads.
  while ((await db.query(`SELECT 1 FROM jobs WHERE id = ANY($1) AND finished_at IS NULL`, [ids])).rowCount) {
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  const seconds = (performance.now() - started) / 1000;
  const cpu = cpuSpent(cpuBefore, cpuTimes(), processes, SERVERS);
  const { rows } = await db.query<{ ms: number; passed: number }>(
    `SELECT extract(epoch FROM (r.started_at - j.created_at)) * 1000 AS ms, (r.result = 'passed')::int AS passed
       FROM runs r JOIN jobs j ON j.id = r.job_id WHERE j.id = ANY($1)`,
    [ids],
  );
  const passed = rows.reduce((s, r) => s + r.passed, 0);
  if (passed !== RUNS) throw new Error(`only ${passed} of ${RUNS} runs passed`);
  const latencies = rows.map((r) => Number(r.ms));
  return { seconds, perSecond: RUNS / seconds, p50: quantile(latencies, 0.5), p99: quantile(latencies, 0.99), cpu };
}

/**
 * The farm's figures, and then the floor's, on the farm's database and devices while its stack
 * idles. Between the two, VACUUM clears what the farm's rounds left (dead row versions of its
 * runs), so that autovacuum does not charge them to the floor's rounds.
 */
async function farm(redisUrl: string): Promise<{ ours: Figures; floor: Figures }> {
  const prefix = `bench-${randomUUID().slice(0, 8)}`;
  const stack = await startStack({
    quiet: true,
    ownQueues: true,
    env: { REDIS_URL: redisUrl, QUEUE_PREFIX: prefix, LOG_LEVEL: 'warn' },
    agents: [{ AGENT_NAME: `bench-${randomUUID().slice(0, 8)}`, SIM_DEVICES: String(DEVICES), SIM_TIME_SCALE: '0', SIM_TAGS: 'bench-dispatch', LOG_LEVEL: 'warn' }],
  });
  const db = new Client({ connectionString: stack.env['DATABASE_URL'] });
  await db.connect();
  try {
    const api = new FarmApi(stack.apiUrl, { token: stack.token });
    const devices = await waitForWorkers(api, redisUrl, prefix, 'bench-dispatch');
    const measured: Figures[] = [];
    const processes = new Map<number, string>([[process.pid, 'bench']]);
    if (stack.api.child.pid) processes.set(stack.api.child.pid, 'api');
    const agentPid = stack.agents[0]?.child.pid;
    if (agentPid) processes.set(agentPid, 'agent');
    for (const round of ROUNDS) {
      const figures = await farmRound(api, db, round, processes);
      if (round !== 'warm-up') measured.push(figures);
    }
    await db.query('VACUUM ANALYZE jobs, runs, measurements, measurement_batches, devices');
    return { ours: summarise(measured), floor: await floor(redisUrl, stack.env['DATABASE_URL'] ?? '', devices) };
  } finally {
    await db.end();
    await stack.stop();
  }
}

async function main(): Promise<void> {
  const redisUrl = process.env['REDIS_URL'] ?? DEFAULT_REDIS_URL;
  const raw = await rawBullmq(redisUrl);
  const { ours, floor: least } = await farm(redisUrl);
  console.log(
    `\n${RUNS} zero-length runs on ${DEVICES} devices (${DEVICES} queues, one worker of concurrency 1 each): each path's round of median throughput of ${MEASURED}, after ${WARM_UP} warm-up rounds\n`,
  );
  console.log(
    formatTable(
      ['path', 'seconds', 'runs/s', 'submit→start p50 ms', 'submit→start p99 ms'],
      [
        ['raw BullMQ add + process', raw.seconds.toFixed(2), raw.perSecond.toFixed(0), raw.p50.toFixed(1), raw.p99.toFixed(1)],
        ['floor: BullMQ + the farm\'s Postgres rows', least.seconds.toFixed(2), least.perSecond.toFixed(0), least.p50.toFixed(1), least.p99.toFixed(1)],
        ['farm: REST → queue → agent → Postgres', ours.seconds.toFixed(2), ours.perSecond.toFixed(0), ours.p50.toFixed(1), ours.p99.toFixed(1)],
      ],
    ),
  );
  const rounds = (f: Figures) => (f.rounds ?? []).map((r) => r.toFixed(0)).join(', ');
  console.log(`\nruns/s of each measured round: raw ${rounds(raw)}; floor ${rounds(least)}; farm ${rounds(ours)}`);
  if (raw.cpu.size > 0) {
    // Where the time goes on this host: every process of both paths shares its cores.
    const columns = ['bench', 'api', 'agent', 'postgres', 'redis-server'];
    const ms = (n: number) => n.toFixed(0);
    const line = (name: string, f: Figures) => [name, ...columns.map((c) => ms(f.cpu.get(c) ?? 0)), ms(totalCpu(f.cpu))];
    console.log(`\nCPU ms spent on a round of ${RUNS} runs, mean of the ${MEASURED} measured rounds (${cpus().length} cores)\n`);
    console.log(formatTable(['path', ...columns, 'total'], [line('raw BullMQ', raw), line('floor', least), line('farm', ours)]));
    // Runs/s is CPU per run divided into the cores a path keeps busy: where both fill the host's
    // cores, the ratio follows CPU per run, whatever the path's latencies.
    const perRun = (f: Figures) => totalCpu(f.cpu) / totalCpu(raw.cpu);
    const busy = (f: Figures) => (f.busy ?? 0).toFixed(2);
    const estimate = (1 / perRun(ours)) * ((ours.busy ?? 0) / (raw.busy ?? 1));
    const cores = cpus().length;
    console.log(`\nCPU per run against raw BullMQ's: floor ${perRun(least).toFixed(2)}x, farm ${perRun(ours).toFixed(2)}x. Cores kept busy: raw ${busy(raw)}, floor ${busy(least)}, farm ${busy(ours)} of ${cores}.`);
    console.log(`Runs/s = cores kept busy / CPU per run, so the farm's ratio is about 1/${perRun(ours).toFixed(2)} x ${busy(ours)}/${busy(raw)} = ${estimate.toFixed(3)}.`);
    // The most CPU a run may cost for a ratio of 0.5, were every core of the host busy.
    const budget = (2 * cores) / (raw.busy ?? cores);
    console.log(`A ratio of 0.5 allows at most ${budget.toFixed(2)}x raw's CPU a run with all ${cores} cores busy; the floor spends ${perRun(least).toFixed(2)}x before any REST, agent or report.`);
  }
  console.log(`\nfloor_ratio=${(least.perSecond / raw.perSecond).toFixed(3)}`);
  console.log(`dispatch_ratio=${(ours.perSecond / raw.perSecond).toFixed(3)}`);
}

main().catch((error: unknown) => {
  console.error(error instanceof PreflightError ? error.message : error);
  process.exit(error instanceof PreflightError ? 2 : 1);
});
