import { randomUUID } from 'node:crypto';
import { createServer } from 'node:net';
import { DEFAULT_REDIS_URL, type TokenCreate } from '@farm/contracts';
import { createToken, DEFAULT_DATABASE_URL } from '@farm/db';
import { Redis } from 'ioredis';
import { connect } from '../db/connection';
import { migrate } from '../db/migrate';
import { preflight } from './preflight';
import { startService, waitForHttp, type Service } from './processes';

export interface StackOptions {
  /** Port of the API; 0 picks a free one. */
  port?: number;
  /** Simulated agents to start, each with its environment on top of the defaults. */
  agents?: NodeJS.ProcessEnv[];
  /** Environment for every process on top of this one's. */
  env?: NodeJS.ProcessEnv;
  /** Start the inference server too (the cloud side of real devices), and point agents at it. */
  inferenceServer?: boolean;
  quiet?: boolean;
  /**
   * The stack's QUEUE_PREFIX (which `env` must give) is its own, as a bench's or a test's is: `stop`
   * deletes every Redis key under it, so the stack leaves nothing in a Redis it shares with others
   * (each queue keeps a stream of up to 10,000 events, megabytes a bench round leaves behind).
   */
  ownQueues?: boolean;
  /** How long the agents may take to register (many agents starting at once on a small host take a while). */
  agentsTimeoutMs?: number;
}

export interface Stack {
  apiUrl: string;
  /** An admin token of the stack's API, for its users: the scripts and tests that drive it. */
  token: string;
  inferenceUrl: string | undefined;
  env: NodeJS.ProcessEnv;
  /** The API process; `restartApi` replaces it. */
  api: Service;
  agents: Service[];
  /** Starts an agent with a token of its own (bound to its AGENT_NAME, made unless AGENT_TOKEN is given). */
  startAgent(env: NodeJS.ProcessEnv): Promise<Service>;
  /** Makes a token directly in the stack's database. */
  createToken(spec: TokenCreate): Promise<string>;
  /** Stops the API with `signal` and starts it again on the same port; resolves once it answers. */
  restartApi(signal?: NodeJS.Signals): Promise<void>;
  stop(): Promise<void>;
}

export class PreflightError extends Error {}

/**
 * Brings up the farm on this machine: checks PostgreSQL and Redis, applies migrations, starts
 * the API and the agents as processes, and waits until the API answers and the agents have
 * registered their devices.
 */
export async function startStack(options: StackOptions = {}): Promise<Stack> {
  const databaseUrl = options.env?.['DATABASE_URL'] ?? process.env['DATABASE_URL'] ?? DEFAULT_DATABASE_URL;
  const redisUrl = options.env?.['REDIS_URL'] ?? process.env['REDIS_URL'] ?? DEFAULT_REDIS_URL;
  const ownPrefix = options.ownQueues ? options.env?.['QUEUE_PREFIX'] : undefined;
  if (options.ownQueues && !ownPrefix) throw new Error('a stack that owns its queues needs a QUEUE_PREFIX of its own');
  const browser = (options.agents ?? []).some((a) => (a['BACKENDS'] ?? '').includes('browser'))
    ? { chromium: process.env['CHROMIUM_PATH'] ?? '/usr/bin/chromium', chromedriver: process.env['CHROMEDRIVER_PATH'] ?? '/usr/bin/chromedriver' }
    : undefined;
  const problems = await preflight({ databaseUrl, redisUrl, ...(browser && { browser }) });
  if (problems.length > 0) throw new PreflightError(`The farm cannot start:\n  - ${problems.join('\n  - ')}`);
  await migrate({ databaseUrl, log: () => undefined });
  const newToken = async (spec: TokenCreate): Promise<string> => {
    const db = await connect(databaseUrl);
    try {
      return (await createToken(db, spec)).token;
    } finally {
      await db.end();
    }
  };
  const token = await newToken({ role: 'admin', name: 'stack' });

  const port = options.port || (await freePort());
  const env: NodeJS.ProcessEnv = {
    DATABASE_URL: databaseUrl,
    REDIS_URL: redisUrl,
    ...options.env,
    PORT: String(port),
  };
  const apiUrl = `http://127.0.0.1:${port}`;
  const startApi = () => startService('api', 'apps/api/src/main.ts', env, { quiet: options.quiet });
  const api = startApi();
  const inferencePort = options.inferenceServer ? await freePort() : undefined;
  const inference = inferencePort
    ? startService('inference-server', 'apps/inference-server/src/main.ts', { ...env, API_URL: apiUrl, PORT: String(inferencePort), HOST: '127.0.0.1' }, { quiet: options.quiet })
    : undefined;
  const inferenceUrl = inferencePort ? `http://127.0.0.1:${inferencePort}` : undefined;
  if (inferenceUrl) env['INFERENCE_URL'] = inferenceUrl;
  const agents: Service[] = [];
  const startAgent = async (agentEnv: NodeJS.ProcessEnv): Promise<Service> => {
    const name = agentEnv['AGENT_NAME'] ?? `agent-${randomUUID().slice(0, 8)}`;
    const agentToken = agentEnv['AGENT_TOKEN'] ?? (await newToken({ role: 'agent', agent: name }));
    const service = startService(name, 'device-agent/src/main.ts', { ...env, API_URL: apiUrl, AGENT_NAME: name, AGENT_TOKEN: agentToken, ...agentEnv }, { quiet: options.quiet });
    agents.push(service);
    return service;
  };
  const stack: Stack = {
    apiUrl,
    token,
    inferenceUrl,
    env,
    api,
    agents,
    startAgent,
    restartApi: async (signal: NodeJS.Signals = 'SIGTERM') => {
      await stack.api.stop(signal);
      stack.api = startApi();
      await waitForHttp(`${apiUrl}/api/health`, stack.api);
    },
    createToken: newToken,
    stop: async () => {
      await Promise.all(agents.map((a) => a.stop()));
      await Promise.all([stack.api.stop(), inference?.stop()]);
      if (ownPrefix) await deleteKeys(redisUrl, `${ownPrefix}:*`);
    },
  };
  try {
    await waitForHttp(`${apiUrl}/api/health`, api);
    if (inference) await waitForHttp(`${inferenceUrl}/health`, inference, 120_000);
    for (const agentEnv of options.agents ?? []) await startAgent(agentEnv);
    await waitForDevices(apiUrl, token, options.agents ?? [], options.agentsTimeoutMs);
  } catch (error) {
    await stack.stop();
    throw error;
  }
  return stack;
}

/** Waits until every agent started with the stack shows as online. */
async function waitForDevices(apiUrl: string, token: string, agents: NodeJS.ProcessEnv[], timeoutMs = 60_000): Promise<void> {
  const names = new Set(agents.map((a) => a['AGENT_NAME']).filter((n): n is string => Boolean(n)));
  const started = Date.now();
  while (names.size > 0) {
    const list = (await (await fetch(`${apiUrl}/api/agents`, { headers: { authorization: `Bearer ${token}` } })).json()) as { name: string; state: string }[];
    if ([...names].every((n) => list.some((a) => a.name === n && a.state === 'online'))) return;
    if (Date.now() - started > timeoutMs) throw new Error(`agents did not register within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

/** Deletes the keys of a Redis that match a pattern, a page of SCAN at a time. */
async function deleteKeys(redisUrl: string, pattern: string): Promise<void> {
  const redis = new Redis(redisUrl, { maxRetriesPerRequest: 1 });
  try {
    for await (const keys of redis.scanStream({ match: pattern, count: 1_000 }) as AsyncIterable<string[]>) {
      if (keys.length > 0) await redis.unlink(...keys);
    }
  } finally {
    redis.disconnect();
  }
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}
