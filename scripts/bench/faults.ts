import { randomUUID } from 'node:crypto';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type IncomingMessage } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { JobView, Scenario } from '@farm/contracts';
import { FarmApi, formatTable } from '@farm/client';
import { Pool } from 'pg';
import { startPrivatePostgres, startPrivateRedis, type PrivateService } from '../lib/private-services';
import type { Service } from '../lib/processes';
import { PreflightError, startStack, type Stack } from '../lib/stack';
import { until } from '../lib/until';

/**
 * `npm run bench:faults`: the farm under injected faults, against real processes on 127.0.0.1
 * and a PostgreSQL cluster and a Redis server of its own (so it may stop them): an agent killed
 * with SIGKILL mid-run, the API killed and restarted mid-upload, Redis stopped for 10 s and
 * PostgreSQL stopped for 10 s mid-job, a device lost mid-run, and result batches delivered twice
 * (a proxy between an agent and the API sends each twice and drops some answers). After each, the
 * job must finish and every passed run hold exactly its rows, counted in PostgreSQL. Prints a
 * table; last line `lost=<n> duplicated=<n>`.
 */

/** Faster than the defaults, so a fault shows in seconds; the outages are longer than AGENT_TIMEOUT_MS. */
const API_ENV = { HEARTBEAT_INTERVAL_MS: '500', AGENT_TIMEOUT_MS: '3000', REAPER_INTERVAL_MS: '250', LOG_LEVEL: 'warn' };
const DEVICES = 4;
const ITERATIONS = 12;
const MODELS = ['mobilenet_v2', 'inception_v3'];
const SCENARIOS: Scenario[] = ['on_device', 'cloud'];
/** Each simulated phase sleeps 1/20 of its modelled time: a low-end run lasts 0.5 to 1.5 s. */
const AGENT_ENV = { BACKENDS: 'simulated', SIM_DEVICES: String(DEVICES), SIM_PROFILES: 'low_end', SIM_TIME_SCALE: '0.05', LOG_LEVEL: 'warn' };
const JOB_TIMEOUT_MS = 120_000;

export interface FaultRow {
  fault: string;
  /** Runs of the job not yet finished when the fault struck, or retried after it. */
  affected: number;
  /** Of those, the runs that passed in the end. */
  recovered: number;
  /** Rows missing from passed runs (or from runs that never finished), and from the summary. */
  lost: number;
  /** Rows beyond what the passed runs made, and beyond it in the summary. */
  duplicated: number;
  /** How the job ended. */
  outcome: string;
}

interface Context {
  stack: Stack;
  api: FarmApi;
  db: Pool;
  redis: PrivateService;
  postgres: PrivateService;
  outboxDir: string;
}

/** One fault: how its agent starts, and what it does once the job has rows in progress. */
interface Fault {
  name: string;
  agentEnv?: (agentName: string, ctx: Context) => Promise<NodeJS.ProcessEnv>;
  /** Strikes; may return the runs it touched, when that is not simply "the unfinished ones". */
  strike(ctx: Context, agent: AgentHandle): Promise<Set<string> | void>;
  after?: () => Promise<void>;
}

interface AgentHandle {
  env: NodeJS.ProcessEnv;
  service: Service;
}

/** Calls fail while a fault is on (the API restarting, the database stopped): ask again. */
const RETRY = { retryErrors: true };

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Reports an agent's outbox held unanswered (what a killed agent leaves for its next start). */
function unansweredReports(file: string): number {
  if (!existsSync(file)) return 0;
  const open = new Set<number>();
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    try {
      const entry = JSON.parse(line) as { seq?: number; acked?: number[] };
      if (typeof entry.seq === 'number') open.add(entry.seq);
      for (const seq of entry.acked ?? []) open.delete(seq);
    } catch {
      // a line cut short by the kill
    }
  }
  return open.size;
}

function outage(name: string, service: (ctx: Context) => PrivateService, ms: number): Fault {
  return {
    name,
    strike: async (ctx) => {
      await service(ctx).stop();
      await sleep(ms);
      await service(ctx).start();
    },
  };
}

export function faults(outageMs: number, notes: string[]): Fault[] {
  let duplicating: Awaited<ReturnType<typeof duplicatingProxy>> | undefined;
  return [
    {
      name: 'agent SIGKILL mid-run',
      strike: async (ctx, agent) => {
        await agent.service.stop('SIGKILL');
        const left = unansweredReports(path.join(ctx.outboxDir, `${agent.env['AGENT_NAME']}.jsonl`));
        notes.push(`agent SIGKILL: its outbox held ${left} unanswered report(s), replayed by the restarted agent`);
        agent.service = await ctx.stack.startAgent(agent.env);
      },
    },
    {
      name: 'API SIGKILL + restart mid-upload',
      strike: (ctx) => ctx.stack.restartApi('SIGKILL'),
    },
    outage(`Redis stopped ${outageMs / 1000} s mid-job`, (ctx) => ctx.redis, outageMs),
    outage(`Postgres stopped ${outageMs / 1000} s mid-job`, (ctx) => ctx.postgres, outageMs),
    {
      name: 'device lost mid-run',
      // The device drops in its first run and is plugged back in a second later.
      agentEnv: (agentName) => Promise.resolve({ SIM_FAULTS: `lose:${agentName}-sim-001`, SIM_RETURN_MS: '1000' }),
      // It strikes inside the agent: the runs it touched are those it made retry.
      strike: () => Promise.resolve(new Set<string>()),
    },
    {
      name: 'result batches delivered twice',
      agentEnv: async (_name, ctx) => {
        duplicating = await duplicatingProxy(ctx.stack.apiUrl);
        return { API_URL: duplicating.url };
      },
      strike: () => Promise.resolve(duplicating?.runs),
      after: async () => {
        notes.push(`batches twice: ${duplicating?.repeated ?? 0} report request(s) with measurements delivered twice at once, ${duplicating?.dropped ?? 0} answer(s) dropped (sent again by the agent)`);
        await duplicating?.close();
      },
    },
  ];
}

/**
 * A proxy in front of the API that delivers every report request carrying measurements twice,
 * side by side, and drops every third answer, so the agent sends that request once more.
 */
async function duplicatingProxy(target: string): Promise<{ url: string; runs: Set<string>; repeated: number; dropped: number; close(): Promise<void> }> {
  const state = { runs: new Set<string>(), repeated: 0, dropped: 0 };
  const read = async (req: IncomingMessage) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks);
  };
  const server = createServer((req, res) => {
    void (async () => {
      const body = await read(req);
      const headers: Record<string, string> = {};
      for (const name of ['authorization', 'content-type']) {
        const value = req.headers[name];
        if (typeof value === 'string') headers[name] = value;
      }
      const forward = () =>
        fetch(new URL(req.url ?? '/', target), { method: req.method ?? 'GET', headers, ...(body.length > 0 && { body }), signal: AbortSignal.timeout(30_000) });
      const text = body.toString();
      const twice = req.method === 'POST' && req.url?.endsWith('/reports') && text.includes('"measurements"');
      try {
        const [answer] = await Promise.all(twice ? [forward(), forward()] : [forward()]);
        if (!answer) throw new Error('no answer');
        if (twice) {
          state.repeated++;
          for (const report of (JSON.parse(text) as { reports: { type: string; runId: string }[] }).reports) {
            if (report.type === 'measurements') state.runs.add(report.runId);
          }
          if (state.repeated % 3 === 0) {
            state.dropped++;
            req.socket.destroy();
            return;
          }
        }
        res.writeHead(answer.status, { 'content-type': answer.headers.get('content-type') ?? 'application/json' });
        res.end(Buffer.from(await answer.arrayBuffer()));
      } catch (error) {
        res.writeHead(502).end(String(error));
      }
    })();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    url: `http://127.0.0.1:${port}`,
    get runs() {
      return state.runs;
    },
    get repeated() {
      return state.repeated;
    },
    get dropped() {
      return state.dropped;
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** Rows one passed run holds: a cold model load, then each iteration's phases. */
function expectedRows(scenario: Scenario): number {
  return scenario === 'on_device' ? 1 + ITERATIONS * 4 : ITERATIONS * 8;
}

async function unfinishedRuns(db: Pool, jobId: string): Promise<string[]> {
  const { rows } = await db.query<{ id: string }>(`SELECT id FROM runs WHERE job_id = $1 AND status <> 'finished'`, [jobId]);
  return rows.map((r) => r.id);
}

async function runFault(ctx: Context, fault: Fault, notes: string[]): Promise<FaultRow> {
  const agentName = `faults-${randomUUID().slice(0, 8)}`;
  const env = { ...AGENT_ENV, AGENT_NAME: agentName, SIM_TAGS: agentName, OUTBOX_DIR: ctx.outboxDir, ...(await fault.agentEnv?.(agentName, ctx)) };
  const agent: AgentHandle = { env, service: await ctx.stack.startAgent(env) };
  try {
    await until(
      async () => (await ctx.api.request<{ name: string; state: string }[]>('GET', '/api/agents')).body.some((a) => a.name === agentName && a.state === 'online'),
      60_000,
      `agent ${agentName} to register`,
      RETRY,
    );
    const job = await ctx.api.submit({ name: agentName, models: MODELS, scenarios: SCENARIOS, devices: { tags: [agentName] }, iterations: ITERATIONS });
    await until(
      async () => (await ctx.db.query(`SELECT 1 FROM measurements m JOIN runs r ON r.id = m.run_id WHERE r.job_id = $1 AND r.status <> 'finished' LIMIT 1`, [job.id])).rowCount,
      60_000,
      'a run with rows in progress',
      RETRY,
    );
    const unfinished = await unfinishedRuns(ctx.db, job.id);
    const touched = await fault.strike(ctx, agent);
    const done = await until(async () => {
      const view = await ctx.api.job(job.id);
      return view.finishedAt ? view : undefined;
    }, JOB_TIMEOUT_MS, `job ${job.id} to finish`, RETRY).catch(() => undefined);
    return await tally(ctx, fault.name, job.id, done, touched ?? new Set(unfinished), notes);
  } finally {
    await agent.service.stop();
    await fault.after?.();
  }
}

async function tally(ctx: Context, fault: string, jobId: string, done: JobView | undefined, touched: Set<string>, notes: string[]): Promise<FaultRow> {
  const { rows: runs } = await ctx.db.query<{ id: string; scenario: Scenario; result: string | null; attempt: number; errorKind: string | null; rows: number }>(
    `SELECT r.id, r.scenario::text AS scenario, r.result::text AS result, r.attempt, r.error_kind AS "errorKind",
            (SELECT count(*) FROM measurements m WHERE m.run_id = r.id AND m.attempt = r.attempt)::int AS rows
       FROM runs r WHERE r.job_id = $1`,
    [jobId],
  );
  let lost = 0;
  let duplicated = 0;
  const affected = runs.filter((r) => touched.has(r.id) || r.attempt > 1);
  for (const run of runs) {
    const expected = expectedRows(run.scenario);
    if (run.result === 'passed') {
      lost += Math.max(0, expected - run.rows);
      duplicated += Math.max(0, run.rows - expected);
    } else if (run.result === null) {
      // Never finished: everything it should have made is missing.
      lost += expected;
    }
  }
  // The figures users see: each iteration of each passed run counted once in the summary.
  const summary = await ctx.api.summary(jobId);
  const counted = summary.groups.filter((g) => g.phase === 'total').reduce((n, g) => n + g.n, 0);
  const passed = runs.filter((r) => r.result === 'passed').length;
  lost += Math.max(0, passed * ITERATIONS - counted);
  duplicated += Math.max(0, counted - passed * ITERATIONS);

  const results = new Map<string, number>();
  const retried = runs.filter((r) => r.attempt > 1).length;
  const failed = runs.filter((r) => r.result !== 'passed' && r.result !== null);
  if (retried > 0) notes.push(`${fault}: ${retried} run(s) took a second attempt`);
  if (failed.length > 0) {
    const { rows: reasons } = await ctx.db.query<{ kind: string | null; message: string | null; n: number }>(
      `SELECT error_kind AS kind, error_message AS message, count(*)::int AS n FROM runs WHERE id = ANY($1) GROUP BY 1, 2`,
      [failed.map((r) => r.id)],
    );
    notes.push(`${fault}: runs that did not pass: ${reasons.map((r) => `${r.n} × ${r.kind ?? 'no kind'} (${r.message ?? 'no message'})`).join('; ')}`);
  }
  for (const run of runs) {
    const key = run.result === 'passed' || run.result === null ? (run.result ?? 'unfinished') : `${run.result} (${run.errorKind ?? 'no reason'})`;
    results.set(key, (results.get(key) ?? 0) + 1);
  }
  const outcome = `${done ? 'finished' : 'NOT finished'}: ${[...results].map(([k, n]) => `${n} ${k}`).join(', ')}`;
  return {
    fault,
    affected: affected.length,
    recovered: affected.filter((r) => r.result === 'passed').length,
    lost,
    duplicated,
    outcome,
  };
}

export interface SuiteResult {
  rows: FaultRow[];
  notes: string[];
  lost: number;
  duplicated: number;
}

/** Runs every fault on one farm of its own; `only` picks faults by a part of their name. */
export async function runFaultSuite(options: { outageMs?: number; only?: string; quiet?: boolean } = {}): Promise<SuiteResult> {
  const outageMs = options.outageMs ?? 10_000;
  const redis = await startPrivateRedis();
  const postgres = await startPrivatePostgres('farm_faults');
  const outboxDir = path.join(tmpdir(), `farm-faults-outbox-${randomUUID().slice(0, 8)}`);
  let stack: Stack | undefined;
  const db = new Pool({ connectionString: postgres.url, max: 2 });
  // Connections die with the stopped server; the pool replaces them.
  db.on('error', () => undefined);
  try {
    stack = await startStack({ quiet: options.quiet ?? true, env: { DATABASE_URL: postgres.url, REDIS_URL: redis.url, QUEUE_PREFIX: 'faults', ...API_ENV } });
    const ctx: Context = { stack, api: new FarmApi(stack.apiUrl, { token: stack.token }), db, redis, postgres, outboxDir };
    const notes: string[] = [];
    const rows: FaultRow[] = [];
    for (const fault of faults(outageMs, notes).filter((f) => !options.only || f.name.includes(options.only))) {
      const started = Date.now();
      rows.push(await runFault(ctx, fault, notes));
      notes.push(`${fault.name}: ${((Date.now() - started) / 1000).toFixed(1)} s`);
    }
    return { rows, notes, lost: rows.reduce((n, r) => n + r.lost, 0), duplicated: rows.reduce((n, r) => n + r.duplicated, 0) };
  } finally {
    await stack?.stop();
    await db.end();
    await Promise.all([redis.destroy(), postgres.destroy()]);
    rmSync(outboxDir, { recursive: true, force: true });
  }
}

export class FaultOptionsError extends Error {}

/** FAULT_OUTAGE_MS and FAULTS_ONLY, checked; throws a FaultOptionsError naming a bad one. */
export function faultOptions(env: NodeJS.ProcessEnv): { outageMs: number; only?: string } {
  const raw = env['FAULT_OUTAGE_MS'];
  const outageMs = raw === undefined ? 10_000 : Number(raw);
  if (!Number.isInteger(outageMs) || outageMs < 0 || outageMs > 600_000 || raw?.trim() === '') {
    throw new FaultOptionsError(`FAULT_OUTAGE_MS must be a whole number of milliseconds from 0 to 600000 (got "${raw}")`);
  }
  const only = env['FAULTS_ONLY'];
  if (only !== undefined && !faults(outageMs, []).some((f) => f.name.includes(only))) {
    throw new FaultOptionsError(`FAULTS_ONLY "${only}" names no fault; the faults are: ${faults(outageMs, []).map((f) => f.name).join(', ')}`);
  }
  return { outageMs, ...(only !== undefined && { only }) };
}

async function main(): Promise<void> {
  const options = faultOptions(process.env);
  const started = Date.now();
  const result = await runFaultSuite({ ...options, quiet: !process.env['FARM_TEST_VERBOSE'] });
  console.log(
    `\n${DEVICES} simulated devices × ${MODELS.length} CNNs × ${SCENARIOS.length} scenarios × ${ITERATIONS} iterations per fault (${DEVICES * MODELS.length * SCENARIOS.length} runs), ${((Date.now() - started) / 1000).toFixed(0)} s in all\n`,
  );
  console.log(formatTable(['fault', 'runs affected', 'recovered', 'lost', 'duplicated', 'job'], result.rows.map((r) => [r.fault, r.affected, r.recovered, r.lost, r.duplicated, r.outcome])));
  console.log(`\n${result.notes.join('\n')}\n`);
  console.log(`lost=${result.lost} duplicated=${result.duplicated}`);
  if (result.lost > 0 || result.duplicated > 0) process.exitCode = 1;
}

if (require.main === module) {
  main().catch((error: unknown) => {
    const known = error instanceof PreflightError || error instanceof FaultOptionsError;
    console.error(known ? error.message : error);
    process.exit(known ? 2 : 1);
  });
}
