import { randomUUID } from 'node:crypto';
import { DEFAULT_DATABASE_URL } from '@farm/db';
import { FarmApi, formatTable, type FarmApiOptions } from '@farm/client';
import autocannon from 'autocannon';
import { Command, CommanderError, InvalidArgumentError } from 'commander';
import { recreateDatabase } from '../db/connection';
import { PreflightError, startStack } from '../lib/stack';

/**
 * `npm run bench:load`: autocannon at the submit endpoint (POST /api/jobs) and the read
 * endpoints (GET /api/jobs, /api/jobs/:id, /api/jobs/:id/summary), one after the other, each at
 * a stated rate for a stated time, against the API and a simulated agent in a database of their
 * own (`farm_bench_load`, recreated). Prints p50, p99, throughput and errors per endpoint; last
 * line `load_p99_ms=<slowest endpoint's p99> errors=<all endpoints>`.
 */

interface Options {
  rate: number;
  duration: number;
  connections: number;
}

interface Figures {
  endpoint: string;
  requests: number;
  perSecond: number;
  p50: number;
  p99: number;
  max: number;
  errors: number;
}

function positiveInt(name: string, max: number) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < 1 || n > max) throw new InvalidArgumentError(`${name} must be a whole number from 1 to ${max}`);
    return n;
  };
}

/** The run's settings from its flags, over LOAD_* environment variables, over the defaults; throws a CommanderError naming a bad one. */
export function parseOptions(argv: readonly string[], env: NodeJS.ProcessEnv = process.env): Options {
  const fromEnv = (name: string, flag: string, fallback: number, max: number) => {
    const value = env[name];
    return value === undefined ? fallback : positiveInt(`${name} (or ${flag})`, max)(value);
  };
  const program = new Command('bench:load')
    .description('autocannon at the submit and read endpoints of a farm of its own')
    .exitOverride()
    .configureOutput({ writeErr: () => undefined })
    .option('--rate <n>', 'requests per second to each endpoint (env LOAD_RATE)', positiveInt('--rate', 100_000))
    .option('--duration <s>', 'seconds per endpoint (env LOAD_DURATION_S)', positiveInt('--duration', 3_600))
    .option('--connections <n>', 'connections per endpoint (env LOAD_CONNECTIONS)', positiveInt('--connections', 1_000))
    .parse([...argv], { from: 'node' });
  const flags = program.opts<Partial<Options>>();
  return {
    rate: flags.rate ?? fromEnv('LOAD_RATE', '--rate', 50, 100_000),
    duration: flags.duration ?? fromEnv('LOAD_DURATION_S', '--duration', 10, 3_600),
    connections: flags.connections ?? fromEnv('LOAD_CONNECTIONS', '--connections', 10, 1_000),
  };
}

async function fire(url: string, headers: Record<string, string>, options: Options, request: { method: 'GET' | 'POST'; body?: string; expect: number }): Promise<Omit<Figures, 'endpoint'>> {
  const result = await autocannon({
    url,
    method: request.method,
    headers: { ...headers, ...(request.body && { 'content-type': 'application/json' }) },
    ...(request.body && { body: request.body }),
    connections: options.connections,
    overallRate: options.rate,
    duration: options.duration,
  });
  const wrong = Object.entries(result.statusCodeStats ?? {})
    .filter(([code]) => Number(code) !== request.expect)
    .reduce((n, [, stats]) => n + (stats.count ?? 0), 0);
  return {
    requests: result.requests.total,
    perSecond: result.requests.average,
    p50: result.latency.p50,
    p99: result.latency.p99,
    max: result.latency.max,
    errors: result.errors + wrong,
  };
}

async function main(): Promise<void> {
  const options = parseOptions(process.argv);
  const database = new URL(process.env['DATABASE_URL'] ?? DEFAULT_DATABASE_URL);
  database.pathname = '/farm_bench_load';
  await recreateDatabase(database.toString());
  const tag = `bench-load-${randomUUID().slice(0, 8)}`;
  const stack = await startStack({
    quiet: true,
    ownQueues: true,
    env: { DATABASE_URL: database.toString(), QUEUE_PREFIX: tag, LOG_LEVEL: 'warn' },
    agents: [{ AGENT_NAME: tag, SIM_DEVICES: '4', SIM_TIME_SCALE: '0', SIM_TAGS: tag, LOG_LEVEL: 'warn' }],
  });
  try {
    // The API's credentials, for the client and for autocannon's requests alike.
    const access: FarmApiOptions = { token: stack.token };
    const headers: Record<string, string> = access.token ? { authorization: `Bearer ${access.token}` } : {};
    const api = new FarmApi(stack.apiUrl, access);
    // A finished job with rows to read: 4 devices × 3 CNNs × 2 scenarios × 30 iterations.
    const seeded = await api.submit({ name: `${tag}-seed`, models: ['mobilenet_v2', 'mobilenet_v2_mid', 'inception_v3'], scenarios: ['on_device', 'cloud'], devices: { tags: [tag] }, iterations: 30 });
    await api.waitForJob(seeded.id, { timeoutMs: 120_000 });
    const submit = JSON.stringify({ name: `${tag}-submit`, models: ['mobilenet_v2'], scenarios: ['on_device'], devices: { tags: [tag], maxDevices: 1 }, iterations: 1 });
    const endpoints: [string, string, { method: 'GET' | 'POST'; body?: string; expect: number }][] = [
      ['POST /api/jobs', '/api/jobs', { method: 'POST', body: submit, expect: 201 }],
      ['GET /api/jobs', '/api/jobs', { method: 'GET', expect: 200 }],
      ['GET /api/jobs/:id', `/api/jobs/${seeded.id}`, { method: 'GET', expect: 200 }],
      ['GET /api/jobs/:id/summary', `/api/jobs/${seeded.id}/summary`, { method: 'GET', expect: 200 }],
    ];
    const figures: Figures[] = [];
    for (const [endpoint, path, request] of endpoints) {
      figures.push({ endpoint, ...(await fire(`${stack.apiUrl}${path}`, headers, options, request)) });
    }
    console.log(`\n${options.rate} requests/s offered to each endpoint for ${options.duration} s over ${options.connections} connections, one endpoint at a time (API and a simulated agent of 4 devices on this host)\n`);
    console.log(
      formatTable(
        ['endpoint', 'requests', 'req/s', 'p50 ms', 'p99 ms', 'max ms', 'errors'],
        figures.map((f) => [f.endpoint, f.requests, f.perSecond.toFixed(1), f.p50.toFixed(1), f.p99.toFixed(1), f.max.toFixed(1), f.errors]),
      ),
    );
    const p99 = Math.max(...figures.map((f) => f.p99));
    const errors = figures.reduce((n, f) => n + f.errors, 0);
    console.log(`\nload_p99_ms=${p99.toFixed(1)} errors=${errors}`);
  } finally {
    await stack.stop();
  }
}

if (require.main === module) {
  main().catch((error: unknown) => {
    if (error instanceof CommanderError && error.code === 'commander.helpDisplayed') process.exit(0);
    const known = error instanceof PreflightError || error instanceof CommanderError || error instanceof InvalidArgumentError;
    console.error(known ? error.message : error);
    process.exit(known ? 2 : 1);
  });
}
