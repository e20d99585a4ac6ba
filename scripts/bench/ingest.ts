import { randomUUID } from 'node:crypto';
import { cpus } from 'node:os';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import {
  ITERATION_PHASES,
  type AgentRegistered,
  type Measurement,
  type RunReport,
  type RunReportAck,
  type Scenario,
} from '@farm/contracts';
import { Client } from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { FarmApi, formatTable } from '@farm/client';
import { cpuSpent, cpuTimes } from '../lib/cpu';
import { PreflightError, startStack } from '../lib/stack';

/**
 * `npm run bench:ingest`: measurement rows a second through the API's ingest path (agents'
 * report batches from several lanes at once: claims, measurement batches, finishes, each
 * acknowledged after its commit), against a raw `COPY ... FROM STDIN` of as many rows into the
 * same table, in the same run. Each path writes a job of its own, so keys never collide, and
 * is timed from its first byte to its last commit. Last line: ingest_ratio=<ours/copy>.
 *
 * 500,000 rows a path: enough for a steady rate (several seconds each on 2 cores) while the
 * whole bench stays within a minute.
 */
const ROWS = 500_000;
const DEVICES = 10;
const MODELS = ['mobilenet_v2', 'mobilenet_v2_mid', 'inception_v3'];
const SCENARIOS: Scenario[] = ['on_device', 'cloud'];
/** As the agent sends them: 500 rows a measurement report, at most 5,000 rows a request, 4 lanes. */
const ROWS_PER_REPORT = 500;
const WEIGHT_PER_REQUEST = 5_000;
const LANES = 4;

interface BenchRun {
  id: string;
  deviceId: string;
  scenario: Scenario;
}

interface Figures {
  rows: number;
  seconds: number;
  cpu: Map<string, number>;
}

/** A run's rows: each iteration's phases of its scenario, iterations counted from 1. */
function rowsOf(scenario: Scenario, count: number): Measurement[] {
  const phases = ITERATION_PHASES[scenario];
  return Array.from({ length: count }, (_, i) => ({
    iteration: 1 + Math.floor(i / phases.length),
    warmup: false,
    phase: phases[i % phases.length] ?? 'total',
    durationMs: Math.round(Math.random() * 100_000) / 1_000,
    energyMj: Math.round(Math.random() * 10_000) / 1_000,
    energyMethod: 'simulated' as const,
  }));
}

/** Registers an agent holding DEVICES simulated devices through the API, as the agent does at start. */
async function registerAgent(api: FarmApi, tag: string, token: string): Promise<AgentRegistered> {
  const response = await fetch(new URL('/api/agents/register', api.baseUrl), {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify({
      name: tag,
      hostname: 'bench',
      version: 'bench',
      backends: ['simulated'],
      session: randomUUID(),
      devices: Array.from({ length: DEVICES }, (_, i) => ({
        serial: `${tag}-${i}`,
        backend: 'simulated',
        manufacturer: 'Bench',
        model: `bench-${i % 3}`,
        osVersion: '14',
        soc: null,
        ramMb: null,
        tags: [tag],
        properties: {},
        health: { batteryPct: null, temperatureC: null, charging: null },
      })),
    }),
  });
  if (response.status !== 201 && response.status !== 200) throw new Error(`registration answered ${response.status}: ${await response.text()}`);
  return (await response.json()) as AgentRegistered;
}

async function createJob(api: FarmApi, tag: string, name: string, jobs: string[]): Promise<BenchRun[]> {
  const job = await api.submit({ name, models: MODELS, scenarios: SCENARIOS, devices: { tags: [tag] }, iterations: 1 });
  jobs.push(job.id);
  return (job.runs ?? []).map((r) => ({ id: r.id, deviceId: r.deviceId, scenario: r.scenario }));
}

/**
 * Request bodies of one lane, as the agent's Reporter packs them: a run's claim, its
 * measurement reports and its finish, in order, as many as fit a request's weight.
 */
function laneBodies(runs: readonly BenchRun[], rowsPerRun: number): string[] {
  const reports: RunReport[] = runs.flatMap((run) => {
    const rows = rowsOf(run.scenario, rowsPerRun);
    const batches = Array.from({ length: Math.ceil(rows.length / ROWS_PER_REPORT) }, (_, batch) => ({
      type: 'measurements' as const,
      runId: run.id,
      attempt: 1,
      batch,
      rows: rows.slice(batch * ROWS_PER_REPORT, (batch + 1) * ROWS_PER_REPORT),
    }));
    return [{ type: 'claim', runId: run.id, attempt: 1 }, ...batches, { type: 'finish', runId: run.id, attempt: 1, rows: rows.length }];
  });
  const bodies: string[] = [];
  for (let start = 0; start < reports.length; ) {
    let weight = 0;
    let end = start;
    for (; end < reports.length; end++) {
      const report = reports[end];
      weight += report?.type === 'measurements' ? report.rows.length : 1;
      if (end > start && weight > WEIGHT_PER_REQUEST) break;
    }
    bodies.push(JSON.stringify({ reports: reports.slice(start, end) }));
    start = end;
  }
  return bodies;
}

async function throughApi(api: FarmApi, agent: { id: string; token: string }, runs: readonly BenchRun[], rowsPerRun: number, processes: ReadonlyMap<number, string>): Promise<Figures> {
  const devices = [...new Set(runs.map((r) => r.deviceId))];
  // A device's reports always go through the same lane, so its runs' reports keep their order.
  const lanes = Array.from({ length: LANES }, (_, lane) => laneBodies(runs.filter((r) => devices.indexOf(r.deviceId) % LANES === lane), rowsPerRun));
  const url = new URL(`/api/agents/${agent.id}/reports`, api.baseUrl);
  const headers = { 'content-type': 'application/json', authorization: `Bearer ${agent.token}` };
  const cpuBefore = cpuTimes();
  const started = performance.now();
  await Promise.all(
    lanes.map(async (bodies) => {
      for (const body of bodies) {
        const response = await fetch(url, { method: 'POST', headers, body });
        const answer = (await response.json()) as { acks?: RunReportAck[] };
        const refused = (answer.acks ?? []).filter((a) => !a.ok);
        if (response.status !== 200 || refused.length > 0) throw new Error(`reports answered ${response.status}: ${JSON.stringify(refused[0] ?? answer)}`);
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  return { rows: runs.length * rowsPerRun, seconds, cpu: cpuSpent(cpuBefore, cpuTimes(), processes, ['postgres']) };
}

/** The same rows in COPY's text format, one run after another, in chunks of about 1 MB. */
function copyChunks(runs: readonly BenchRun[], rowsPerRun: number): string[] {
  const chunks: string[] = [];
  let chunk = '';
  for (const run of runs) {
    for (const row of rowsOf(run.scenario, rowsPerRun)) {
      chunk += `${run.id}\t1\t${row.iteration}\t${row.warmup ? 't' : 'f'}\t${row.phase}\t${row.durationMs}\t${row.energyMj ?? '\\N'}\t${row.energyMethod}\n`;
      if (chunk.length > 1 << 20) {
        chunks.push(chunk);
        chunk = '';
      }
    }
  }
  return [...chunks, chunk];
}

async function throughCopy(db: Client, runs: readonly BenchRun[], rowsPerRun: number, processes: ReadonlyMap<number, string>): Promise<Figures> {
  const chunks = copyChunks(runs, rowsPerRun);
  const cpuBefore = cpuTimes();
  const started = performance.now();
  await db.query('BEGIN');
  const copy = db.query(copyFrom('COPY measurements (run_id, attempt, iteration, warmup, phase, duration_ms, energy_mj, energy_method) FROM STDIN'));
  await pipeline(Readable.from(chunks), copy);
  await db.query('COMMIT');
  const seconds = (performance.now() - started) / 1000;
  return { rows: copy.rowCount, seconds, cpu: cpuSpent(cpuBefore, cpuTimes(), processes, ['postgres']) };
}

async function main(): Promise<void> {
  const tag = `bench-ingest-${randomUUID().slice(0, 8)}`;
  // The bench's agent sends no heartbeats: it must stay online for the whole run.
  const stack = await startStack({ quiet: true, ownQueues: true, env: { LOG_LEVEL: 'warn', AGENT_TIMEOUT_MS: '600000', QUEUE_PREFIX: tag } });
  const db = new Client({ connectionString: stack.env['DATABASE_URL'] });
  await db.connect();
  const jobs: string[] = [];
  try {
    const api = new FarmApi(stack.apiUrl, { token: stack.token });
    const agentToken = await stack.createToken({ role: 'agent', agent: tag });
    const { agentId } = await registerAgent(api, tag, agentToken);
    const processes = new Map<number, string>([[process.pid, 'bench']]);
    if (stack.api.child.pid) processes.set(stack.api.child.pid, 'api');

    const oursRuns = await createJob(api, tag, `${tag}-api`, jobs);
    const copyRuns = await createJob(api, tag, `${tag}-copy`, jobs);
    const rowsPerRun = Math.ceil(ROWS / oursRuns.length);

    const ours = await throughApi(api, { id: agentId, token: agentToken }, oursRuns, rowsPerRun, processes);
    const copy = await throughCopy(db, copyRuns, rowsPerRun, processes);

    const { rows } = await db.query<{ passed: number; stored: number }>(
      `SELECT count(*) FILTER (WHERE r.result = 'passed')::int AS passed,
              (SELECT count(*)::int FROM measurements m JOIN runs x ON x.id = m.run_id WHERE x.job_id = $1) AS stored
         FROM runs r WHERE r.job_id = $1`,
      [jobs[0]],
    );
    if (rows[0]?.passed !== oursRuns.length || rows[0]?.stored !== ours.rows) throw new Error(`the API path stored ${JSON.stringify(rows[0])}`);

    console.log(`\n${ours.rows} rows a path: ${oursRuns.length} runs on ${DEVICES} devices, ${ROWS_PER_REPORT} rows a report, at most ${WEIGHT_PER_REQUEST} a request, ${LANES} lanes\n`);
    const line = (path: string, f: Figures) => [path, f.rows, f.seconds.toFixed(2), Math.round(f.rows / f.seconds)];
    console.log(
      formatTable(
        ['path', 'rows', 'seconds', 'rows/s'],
        [line('API: POST /api/agents/:id/reports', ours), line('raw COPY ... FROM STDIN', copy)],
      ),
    );
    if (ours.cpu.size > 0) {
      const columns = ['bench', 'api', 'postgres'];
      const cpu = (path: string, f: Figures) => [path, ...columns.map((c) => f.cpu.get(c) ?? 0)];
      console.log(`\nCPU ms each process spent (${cpus().length} cores)\n`);
      console.log(formatTable(['path', ...columns], [cpu('API', ours), cpu('COPY', copy)]));
    }
    console.log(`\ningest_ratio=${(ours.rows / ours.seconds / (copy.rows / copy.seconds)).toFixed(3)}`);
  } finally {
    // The bench's jobs go with their runs and rows; its devices stay, as the other benches' do.
    await db.query('DELETE FROM jobs WHERE id = ANY($1::uuid[])', [jobs]);
    await db.end();
    await stack.stop();
  }
}

main().catch((error: unknown) => {
  console.error(error instanceof PreflightError ? error.message : error);
  process.exit(error instanceof PreflightError ? 2 : 1);
});
