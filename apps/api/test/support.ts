import { randomUUID } from 'node:crypto';
import { rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Client } from 'pg';
import { FarmApi } from '@farm/client';
import { startStack, type Stack } from '../../../scripts/lib/stack';

export { until, within } from '../../../scripts/lib/until';

/** Settings that make failures show in seconds rather than minutes. */
export const FAST_TIMEOUTS = { HEARTBEAT_INTERVAL_MS: '300', AGENT_TIMEOUT_MS: '1500', REAPER_INTERVAL_MS: '200' };

export interface TestFarm {
  stack: Stack;
  api: FarmApi;
  db: Client;
  /** Tag carried by this farm's simulated devices, so its jobs select only them. */
  tag: string;
  /** `Authorization` of the stack's admin token, for requests made with fetch. */
  auth: { authorization: string };
  agentEnv(name: string, env?: NodeJS.ProcessEnv): NodeJS.ProcessEnv;
  stop(): Promise<void>;
}

/**
 * The real API and real agent processes against the test database and the real Redis,
 * with a Redis prefix and a device tag of their own.
 */
export async function startTestFarm(
  agents: { name: string; env?: NodeJS.ProcessEnv }[],
  env: NodeJS.ProcessEnv = {},
  options: { inferenceServer?: boolean } = {},
): Promise<TestFarm> {
  const id = randomUUID().slice(0, 8);
  const tag = `test-${id}`;
  const outboxDir = path.join(tmpdir(), `farm-outbox-${id}`);
  const agentEnv = (name: string, extra: NodeJS.ProcessEnv = {}) => ({
    AGENT_NAME: `${name}-${id}`,
    BACKENDS: 'simulated',
    SIM_TAGS: tag,
    BROWSER_TAGS: tag,
    SIM_TIME_SCALE: '0',
    LOG_LEVEL: 'warn',
    OUTBOX_DIR: outboxDir,
    ...extra,
  });
  const stack = await startStack({
    quiet: !process.env['FARM_TEST_VERBOSE'],
    ownQueues: true,
    env: { QUEUE_PREFIX: `t${id}`, LOG_LEVEL: 'warn', ...FAST_TIMEOUTS, ...env },
    agents: agents.map((a) => agentEnv(a.name, a.env)),
    inferenceServer: options.inferenceServer,
  });
  const db = new Client({ connectionString: process.env['DATABASE_URL'] });
  await db.connect();
  return {
    stack,
    api: new FarmApi(stack.apiUrl, { token: stack.token }),
    db,
    tag,
    auth: { authorization: `Bearer ${stack.token}` },
    agentEnv,
    stop: async () => {
      await stack.stop();
      await db.end();
      rmSync(outboxDir, { recursive: true, force: true });
    },
  };
}

/** Rows of the runs' current attempts, and all rows, of one job. */
export async function countRows(db: Client, jobId: string): Promise<{ current: number; all: number }> {
  const { rows } = await db.query<{ current: number; all: number }>(
    `SELECT count(*) FILTER (WHERE m.attempt = r.attempt)::int AS current, count(*)::int AS all
       FROM measurements m JOIN runs r ON r.id = m.run_id WHERE r.job_id = $1`,
    [jobId],
  );
  return rows[0] ?? { current: 0, all: 0 };
}

/** Rows one run makes: a cold model load, then each iteration's phases. */
export function expectedRows(scenario: 'on_device' | 'cloud', iterations: number): number {
  return scenario === 'on_device' ? 1 + iterations * 4 : iterations * 8;
}
