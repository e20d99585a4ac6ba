import { DEFAULT_API_PORT, DEFAULT_REDIS_URL, envInt, envUrl, parseEnv } from '@farm/contracts';
import { DEFAULT_DATABASE_URL } from '@farm/db';
import { z } from 'zod';

const ApiEnvSchema = z.object({
  DATABASE_URL: envUrl(['postgres', 'postgresql']).default(DEFAULT_DATABASE_URL),
  /** Connections the API holds to Postgres (Prisma and the report path share them). */
  DATABASE_POOL_SIZE: envInt(2, 500).default(10),
  REDIS_URL: envUrl(['redis', 'rediss']).default(DEFAULT_REDIS_URL),
  PORT: envInt(0, 65535).default(DEFAULT_API_PORT),
  HOST: z.string().min(1).default('127.0.0.1'),
  /** Requests one token (or one address without a valid token) may make per window; 429 past it. */
  RATE_LIMIT_REQUESTS: envInt(1, 10_000_000).default(1_200),
  RATE_LIMIT_WINDOW_MS: envInt(100, 3_600_000).default(10_000),
  /** Largest JSON body of a request (413 past it), and of an agent's report batch. */
  BODY_LIMIT_BYTES: envInt(1_024, 1_073_741_824).default(1_048_576),
  REPORT_BODY_LIMIT_BYTES: envInt(1_024, 1_073_741_824).default(8 * 1_048_576),
  /** Prefix of every Redis key the farm writes, so several farms can share one Redis. */
  QUEUE_PREFIX: z.string().regex(/^[a-z0-9_-]{1,32}$/).default('farm'),
  /** How often agents heartbeat, and how long a silent agent is trusted before its runs are recovered. */
  HEARTBEAT_INTERVAL_MS: envInt(100, 60_000).default(2_000),
  AGENT_TIMEOUT_MS: envInt(300, 600_000).default(10_000),
  /** How often the reaper looks for lost agents and overdue jobs. */
  REAPER_INTERVAL_MS: envInt(50, 60_000).default(1_000),
  /** How long a queued run waits for its offline device (unplugged, its agent gone) to come back. */
  DEVICE_RETURN_MS: envInt(100, 7 * 24 * 3_600_000).default(10 * 60_000),
  /** Failed device checks in a row after which a device is quarantined until an operator releases it. */
  QUARANTINE_AFTER: envInt(1, 1000).default(3),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
});

export type ApiConfig = z.output<typeof ApiEnvSchema>;

export function loadApiConfig(env: NodeJS.ProcessEnv = process.env): ApiConfig {
  return parseEnv(ApiEnvSchema, env);
}

/** Injection token of the validated configuration. */
export const API_CONFIG = Symbol('API_CONFIG');
