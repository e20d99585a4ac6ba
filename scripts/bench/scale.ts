import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import path from 'node:path';
import { BUNDLED_MODELS, ConfigError, DEFAULT_REDIS_URL, envInt, parseEnv } from '@farm/contracts';
import { DEFAULT_DATABASE_URL } from '@farm/db';
import { FarmApi, formatTable } from '@farm/client';
import { Redis } from 'ioredis';
import { Pool } from 'pg';
import { z } from 'zod';
import { TINY_CLASSES, tinyModel, uploadModel } from '../../apps/api/test/model-fixtures';
import { recreateDatabase } from '../db/connection';
import { cpuSpent, cpuTimes } from '../lib/cpu';
import { runScaleJob, type ScaleFigures } from '../lib/scale';
import { freePort, PreflightError, startStack, type Stack } from '../lib/stack';
import { waitForWorkers } from '../lib/workers';

/**
 * `npm run bench:scale`: 10 agent processes × 100 simulated devices (1,000 devices) and one job
 * of 12,000 runs (3 bundled and 3 registered CNNs × 2 scenarios × 1,000 devices, 12 runs a
 * device), in a database of its own and, where `redis-server` is installed, a Redis of its own
 * with its append-only file on, as a deployment runs it. Prints dispatch throughput, the
 * makespan against the ideal (the sum of the runs' durations, started_at to finished_at as
 * PostgreSQL recorded them, divided by the devices), Redis and PostgreSQL load, and the peak
 * memory of the API and the agents. Last line: makespan_ratio=<makespan/ideal>.
 */
const BenchEnvSchema = z.object({
  SCALE_AGENTS: envInt(1, 100).default(10),
  SCALE_DEVICES_PER_AGENT: envInt(1, 1_000).default(100),
  /** Inference iterations of each run, and warm-up iterations before them. */
  SCALE_ITERATIONS: envInt(1, 1_000).default(20),
  SCALE_WARMUP: envInt(0, 100).default(3),
  /** How much of each simulated phase's modelled time it really waits. */
  SIM_TIME_SCALE: z.coerce.number().positive().max(10).default(10),
  DATABASE_URL: z.string().default(DEFAULT_DATABASE_URL),
  REDIS_URL: z.string().default(DEFAULT_REDIS_URL),
});
type BenchEnv = z.output<typeof BenchEnvSchema>;

/** Registered beside the bundled three: tiny real TensorFlow.js models, timed by the simulator from their size. */
const REGISTERED = ['scale_tiny_a', 'scale_tiny_b', 'scale_tiny_c'];
const PROFILE = 'mid_range';

interface RedisServer {
  url: string;
  /** The server's pid when the bench started it, so its CPU is the farm's alone. */
  pid?: number;
  stop(): Promise<void>;
}

/** A Redis of the bench's own, with AOF on (fsync every second), or the shared one when there is no redis-server. */
async function startRedis(sharedUrl: string): Promise<RedisServer> {
  if (spawnSync('redis-server', ['--version']).status !== 0) return { url: sharedUrl, stop: () => Promise.resolve() };
  const port = await freePort();
  const dir = mkdtempSync(path.join(tmpdir(), 'farm-scale-redis-'));
  const child: ChildProcess = spawn(
    'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'yes', '--appendfsync', 'everysec', '--dir', dir],
    { stdio: 'ignore' },
  );
  // Stopped with the bench, however the bench ends.
  const kill = () => child.kill('SIGTERM');
  process.once('exit', kill);
  const url = `redis://127.0.0.1:${port}`;
  for (let tries = 0; ; tries++) {
    const probe = new Redis(url, { lazyConnect: true, retryStrategy: () => null });
    probe.on('error', () => undefined);
    try {
      await probe.connect();
      await probe.quit();
      break;
    } catch (error) {
      probe.disconnect();
      if (tries >= 50) throw new Error(`the bench's redis-server did not answer on ${url}: ${String(error)}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
  return {
    url,
    ...(child.pid !== undefined && { pid: child.pid }),
    stop: async () => {
      process.off('exit', kill);
      child.kill('SIGTERM');
      await new Promise((resolve) => child.once('exit', resolve));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Samples, once a second, what a single reading at the end cannot tell. */
class Sampler {
  readonly redisOps: number[] = [];
  redisPeakBytes = 0;
  /** CPU ms of each PostgreSQL backend serving the bench's database: first and latest reading. */
  private readonly backends = new Map<number, { first: number; last: number }>();
  private timer: NodeJS.Timeout | undefined;
  private busy: Promise<void> | undefined;

  constructor(
    private readonly redis: Redis,
    private readonly db: Pool,
    private readonly database: string,
  ) {}

  async start(): Promise<void> {
    await this.sample(true);
    this.timer = setInterval(() => {
      // A missed sample is only a missed sample: the bench goes on.
      this.busy ??= this.sample(false)
        .catch((error: unknown) => console.error(`sample skipped: ${String(error)}`))
        .finally(() => (this.busy = undefined));
    }, 1_000);
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.busy;
    await this.sample(false);
  }

  postgresCpuMs(): number {
    return [...this.backends.values()].reduce((sum, b) => sum + b.last - b.first, 0);
  }

  private async sample(first: boolean): Promise<void> {
    const info = parseInfo(await this.redis.info('all'));
    this.redisOps.push(Number(info.get('instantaneous_ops_per_sec') ?? 0));
    this.redisPeakBytes = Math.max(this.redisPeakBytes, Number(info.get('used_memory') ?? 0));
    const { rows } = await this.db.query<{ pid: number }>(`SELECT pid FROM pg_stat_activity WHERE datname = $1`, [this.database]);
    const times = cpuTimes();
    for (const { pid } of rows) {
      const ms = times.get(pid)?.ms;
      if (ms === undefined) continue;
      // A backend that connected during the run spent all its CPU on it.
      const known = this.backends.get(pid) ?? { first: first ? ms : 0, last: ms };
      this.backends.set(pid, { ...known, last: ms });
    }
  }
}

function parseInfo(text: string): Map<string, string> {
  const fields = new Map<string, string>();
  for (const line of text.split('\r\n')) {
    const colon = line.indexOf(':');
    if (colon > 0 && !line.startsWith('#')) fields.set(line.slice(0, colon), line.slice(colon + 1));
  }
  return fields;
}

/** Calls per Redis command between two INFO commandstats readings, largest first. */
function commandCalls(before: Map<string, string>, after: Map<string, string>): [string, number][] {
  const calls = (info: Map<string, string>, key: string) => Number(/calls=(\d+)/.exec(info.get(key) ?? '')?.[1] ?? 0);
  return [...after.keys()]
    .filter((key) => key.startsWith('cmdstat_'))
    .map((key): [string, number] => [key.slice('cmdstat_'.length), calls(after, key) - calls(before, key)])
    .filter(([, n]) => n > 0)
    .sort((a, b) => b[1] - a[1]);
}

const PG_COUNTERS = ['xact_commit', 'xact_rollback', 'tup_inserted', 'tup_updated', 'tup_deleted', 'tup_fetched', 'tup_returned', 'blks_read', 'blks_hit'] as const;

async function pgCounters(db: Pool, database: string): Promise<Record<(typeof PG_COUNTERS)[number], number>> {
  const { rows } = await db.query<Record<string, string>>(`SELECT ${PG_COUNTERS.join(', ')} FROM pg_stat_database WHERE datname = $1`, [database]);
  return Object.fromEntries(PG_COUNTERS.map((c) => [c, Number(rows[0]?.[c] ?? 0)])) as Record<(typeof PG_COUNTERS)[number], number>;
}

/** Peak resident memory of a process (VmHWM), MB; NaN where /proc does not tell. */
function peakRssMb(pid: number | undefined): number {
  try {
    const kb = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
    return kb ? Number(kb) / 1024 : Number.NaN;
  } catch {
    return Number.NaN;
  }
}

async function registerModels(stack: { apiUrl: string; token: string }): Promise<void> {
  const saved = await tinyModel('image', 'softmax');
  for (const name of REGISTERED) {
    const response = await uploadModel(stack, {
      name,
      classNames: JSON.stringify(TINY_CLASSES),
      files: [
        { name: 'model.json', bytes: saved.modelJson },
        { name: 'weights.bin', bytes: saved.weights },
      ],
    });
    if (response.status !== 201) throw new Error(`registering ${name}: ${response.status} ${JSON.stringify(response.body)}`);
  }
}

const mb = (bytes: number) => (bytes / 1024 / 1024).toFixed(1);

async function main(): Promise<void> {
  const env: BenchEnv = parseEnv(BenchEnvSchema, process.env);
  const devices = env.SCALE_AGENTS * env.SCALE_DEVICES_PER_AGENT;
  const databaseUrl = new URL(env.DATABASE_URL);
  databaseUrl.pathname = '/farm_bench_scale';
  const database = 'farm_bench_scale';
  await recreateDatabase(databaseUrl.toString());
  const redis = await startRedis(env.REDIS_URL);
  const tag = `scale-${randomUUID().slice(0, 8)}`;
  let stack: Stack | undefined;
  const db = new Pool({ connectionString: databaseUrl.toString(), max: 2 });
  db.on('error', (error) => console.error(`database connection lost: ${error.message}`));
  const redisClient = new Redis(redis.url, { maxRetriesPerRequest: null });
  try {
    stack = await startStack({
      quiet: !process.env['SCALE_VERBOSE'],
      env: { DATABASE_URL: databaseUrl.toString(), REDIS_URL: redis.url, QUEUE_PREFIX: tag, LOG_LEVEL: 'warn' },
      agents: Array.from({ length: env.SCALE_AGENTS }, (_, i) => ({
        AGENT_NAME: `${tag}-agent-${i + 1}`,
        SIM_DEVICES: String(env.SCALE_DEVICES_PER_AGENT),
        SIM_PROFILES: PROFILE,
        SIM_TIME_SCALE: String(env.SIM_TIME_SCALE),
        SIM_TAGS: tag,
        LOG_LEVEL: 'warn',
      })),
      agentsTimeoutMs: 300_000,
    });
    const api = new FarmApi(stack.apiUrl, { token: stack.token });
    await waitForWorkers(api, redis.url, tag, tag, 300_000);
    // Once the agents are up: their registrations (a hundred devices each) keep a busy API busy.
    await registerModels(stack);

    const sampler = new Sampler(redisClient, db, database);
    const processes = new Map<number, string>();
    if (stack.api.child.pid) processes.set(stack.api.child.pid, 'api');
    for (const agent of stack.agents) if (agent.child.pid) processes.set(agent.child.pid, 'agents');
    if (redis.pid) processes.set(redis.pid, 'redis');
    const cpuBefore = cpuTimes();
    const statsBefore = parseInfo(await redisClient.info('all'));
    const pgBefore = await pgCounters(db, database);
    await sampler.start();
    const redisBefore = Number(statsBefore.get('used_memory'));
    let redisQueued = 0;
    const started = performance.now();
    const figures = await runScaleJob(
      api,
      db,
      {
        name: 'bench-scale',
        models: [...BUNDLED_MODELS, ...REGISTERED],
        scenarios: ['on_device', 'cloud'],
        devices: { tags: [tag] },
        iterations: env.SCALE_ITERATIONS,
        warmup: env.SCALE_WARMUP,
      },
      {
        timeoutMs: 3_600_000,
        timeScale: env.SIM_TIME_SCALE,
        // Right after the fan-out most runs are still queued: Redis's memory per queued run.
        onSubmitted: async () => {
          redisQueued = Number(parseInfo(await redisClient.info('memory')).get('used_memory')) - redisBefore;
        },
      },
    );
    const wallS = (performance.now() - started) / 1000;
    await sampler.stop();
    const cpu = cpuSpent(cpuBefore, cpuTimes(), processes, []);
    const statsAfter = parseInfo(await redisClient.info('all'));
    const pgAfter = await pgCounters(db, database);
    const sizes = (
      await db.query<{ measurements: string; runs: string }>(
        `SELECT pg_total_relation_size('measurements') AS measurements, pg_total_relation_size('runs') AS runs`,
      )
    ).rows[0];
    const agentRss = stack.agents.map((a) => peakRssMb(a.child.pid));
    const apiRss = peakRssMb(stack.api.child.pid);

    report({
      env,
      devices,
      figures,
      wallS,
      redis: {
        own: redis.pid !== undefined,
        calls: commandCalls(statsBefore, statsAfter),
        commands: Number(statsAfter.get('total_commands_processed')) - Number(statsBefore.get('total_commands_processed')),
        ops: sampler.redisOps,
        peakBytes: sampler.redisPeakBytes,
        aofBytes: Number(statsAfter.get('aof_current_size') ?? 0),
        queuedBytes: redisQueued,
      },
      pg: { before: pgBefore, after: pgAfter, cpuMs: sampler.postgresCpuMs(), measurementBytes: Number(sizes?.measurements), runBytes: Number(sizes?.runs) },
      cpu,
      apiRss,
      agentRss,
    });
  } finally {
    await redisClient.quit();
    await db.end().catch(() => undefined);
    await stack?.stop();
    await redis.stop();
  }
}

interface Report {
  env: BenchEnv;
  devices: number;
  figures: ScaleFigures;
  wallS: number;
  redis: { own: boolean; calls: [string, number][]; commands: number; ops: number[]; peakBytes: number; aofBytes: number; queuedBytes: number };
  pg: {
    before: Record<(typeof PG_COUNTERS)[number], number>;
    after: Record<(typeof PG_COUNTERS)[number], number>;
    cpuMs: number;
    measurementBytes: number;
    runBytes: number;
  };
  cpu: Map<string, number>;
  apiRss: number;
  agentRss: number[];
}

function report({ env, devices, figures: f, wallS, redis, pg, cpu, apiRss, agentRss }: Report): void {
  console.log(
    `\n${env.SCALE_AGENTS} agents × ${env.SCALE_DEVICES_PER_AGENT} simulated devices (${PROFILE}) = ${devices} devices; one job of ${f.runs} runs ` +
      `(${BUNDLED_MODELS.length + REGISTERED.length} CNNs × 2 scenarios × ${f.devices} devices), ${env.SCALE_ITERATIONS} iterations + ${env.SCALE_WARMUP} warm-up each, ` +
      `SIM_TIME_SCALE=${env.SIM_TIME_SCALE} (each phase waits ${env.SIM_TIME_SCALE}× its modelled time)\n`,
  );
  const run = (ms: { p50: number; p99: number; max: number }) => [ms.p50.toFixed(0), ms.p99.toFixed(0), ms.max.toFixed(0)];
  console.log(
    formatTable(
      ['dispatch', 'value'],
      [
        ['POST /api/jobs (fan-out + enqueue), ms', f.submitMs.toFixed(0)],
        ['runs finished / makespan, runs/s', f.runsPerS.toFixed(1)],
        ['measurement rows stored', String(f.rows)],
        ['rows / makespan, rows/s', (f.rows / f.makespanS).toFixed(0)],
        ['job created → device first start, ms p50 / p99 / max', run(f.firstStartMs).join(' / ')],
        ['gap between runs on a device, ms p50 / p99 / max', run(f.gapMs).join(' / ')],
        ['runs lost (not passed, or rows missing)', String(f.lost)],
        ['runs retried', String(f.retried)],
      ],
    ),
  );
  console.log(`\nrun durations: started_at → finished_at of each run as PostgreSQL recorded them (claim and finish report applied)\n`);
  console.log(
    formatTable(
      ['makespan', 'seconds', '÷ ideal'],
      [
        ['ideal: Σ run durations ÷ devices', f.idealS.toFixed(1), '1.000'],
        [`devices' own measure: Σ leaf phases × ${env.SIM_TIME_SCALE} ÷ devices`, f.idealFromPhasesS.toFixed(1), (f.idealFromPhasesS / f.idealS).toFixed(3)],
        ['busiest device: its run durations summed', f.deviceBoundS.toFixed(1), (f.deviceBoundS / f.idealS).toFixed(3)],
        ['makespan: job created → last run finished', f.makespanS.toFixed(1), (f.makespanS / f.idealS).toFixed(3)],
        ['bench wall clock: submit → finish seen', wallS.toFixed(1), (wallS / f.idealS).toFixed(3)],
      ],
    ),
  );
  const meanOps = redis.ops.reduce((a, b) => a + b, 0) / Math.max(1, redis.ops.length);
  console.log(`\nRedis (${redis.own ? "the bench's own redis-server, appendonly yes, appendfsync everysec" : 'shared: its figures include every other client'})\n`);
  console.log(
    formatTable(
      ['Redis', 'value'],
      [
        ['commands processed', String(redis.commands)],
        ['commands per run', (redis.commands / f.runs).toFixed(1)],
        ['instantaneous ops/s, mean / max of 1 s samples', `${meanOps.toFixed(0)} / ${Math.max(...redis.ops).toFixed(0)}`],
        ['used_memory peak, MB', mb(redis.peakBytes)],
        ['used_memory added by the job, right after POST, bytes per run', (redis.queuedBytes / f.runs).toFixed(0)],
        ['append-only file at the end, MB', mb(redis.aofBytes)],
        ['top commands (calls)', redis.calls.slice(0, 8).map(([c, n]) => `${c} ${n}`).join(', ')],
      ],
    ),
  );
  const d = (key: (typeof PG_COUNTERS)[number]) => pg.after[key] - pg.before[key];
  console.log(`\nPostgreSQL (database farm_bench_scale; counters of pg_stat_database over the job)\n`);
  console.log(
    formatTable(
      ['PostgreSQL', 'value'],
      [
        ['transactions committed / rolled back', `${d('xact_commit')} / ${d('xact_rollback')}`],
        ['commits/s', (d('xact_commit') / f.makespanS).toFixed(0)],
        ['rows inserted / updated / deleted', `${d('tup_inserted')} / ${d('tup_updated')} / ${d('tup_deleted')}`],
        ['rows fetched / returned', `${d('tup_fetched')} / ${d('tup_returned')}`],
        ['blocks hit / read', `${d('blks_hit')} / ${d('blks_read')}`],
        ['measurements table + indexes, MB (bytes/row)', `${mb(pg.measurementBytes)} (${(pg.measurementBytes / f.rows).toFixed(0)})`],
        ['runs table + indexes, MB', mb(pg.runBytes)],
      ],
    ),
  );
  const agentCpu = cpu.get('agents') ?? 0;
  console.log(`\nCPU and memory (${cpus().length} cores shared with every other process of the host; CPU over the job)\n`);
  const maxAgent = Math.max(...agentRss);
  console.log(
    formatTable(
      ['process', 'CPU s', 'CPU % of one core', 'peak RSS MB'],
      [
        ['api', ((cpu.get('api') ?? 0) / 1000).toFixed(1), ((cpu.get('api') ?? 0) / 10 / f.makespanS).toFixed(0), apiRss.toFixed(0)],
        [
          `agents (${agentRss.length}, ${env.SCALE_DEVICES_PER_AGENT} devices each; RSS: max, mean)`,
          (agentCpu / 1000).toFixed(1),
          (agentCpu / 10 / f.makespanS).toFixed(0),
          `${maxAgent.toFixed(0)}, ${(agentRss.reduce((a, b) => a + b, 0) / agentRss.length).toFixed(0)}`,
        ],
        ['redis-server', redis.own ? ((cpu.get('redis') ?? 0) / 1000).toFixed(1) : '-', redis.own ? ((cpu.get('redis') ?? 0) / 10 / f.makespanS).toFixed(0) : '-', '-'],
        ['postgres backends of the database', (pg.cpuMs / 1000).toFixed(1), (pg.cpuMs / 10 / f.makespanS).toFixed(0), '-'],
      ],
    ),
  );
  const perHundred = (maxAgent / env.SCALE_DEVICES_PER_AGENT) * 100;
  const ratio = f.makespanS / f.idealS;
  console.log(
    `\ntargets: makespan within 10% of the ideal: ${ratio <= 1.1 ? 'yes' : 'NO'} (${ratio.toFixed(3)}); ` +
      `agent RSS under 200 MB per 100 devices: ${perHundred < 200 ? 'yes' : 'NO'} (${perHundred.toFixed(0)} MB); ` +
      `no run lost: ${f.lost === 0 ? 'yes' : `NO (${f.lost})`}`,
  );
  console.log(`\nmakespan_ratio=${ratio.toFixed(3)}`);
}

main().catch((error: unknown) => {
  const known = error instanceof PreflightError || error instanceof ConfigError;
  console.error(known ? error.message : error);
  process.exit(known ? 2 : 1);
});
