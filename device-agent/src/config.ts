import { hostname } from 'node:os';
import {
  BackendSchema,
  DEFAULT_AGENT_TOKEN,
  DEFAULT_API_PORT,
  DEFAULT_REDIS_URL,
  envInt,
  envUrl,
  parseEnv,
} from '@farm/contracts';
import { z } from 'zod';
import { parseFaults } from './backends/simulated/faults';
import { PROFILE_NAMES, type ProfileName } from './backends/simulated/profiles';

/** A comma-separated list of values, each validated by `item`. */
const list = <T extends z.ZodType<unknown, string>>(item: T) =>
  z
    .string()
    .transform((s) => s.split(',').map((x) => x.trim()).filter(Boolean))
    .pipe(z.array(item));

const AgentEnvSchema = z.object({
  API_URL: envUrl(['http', 'https']).default(`http://127.0.0.1:${DEFAULT_API_PORT}`),
  REDIS_URL: envUrl(['redis', 'rediss']).default(DEFAULT_REDIS_URL),
  AGENT_TOKEN: z.string().min(8).default(DEFAULT_AGENT_TOKEN),
  AGENT_NAME: z.string().regex(/^[A-Za-z0-9_.-]{1,100}$/, 'must be letters, digits, "_", "." or "-"').default(hostname().replace(/[^A-Za-z0-9_.-]/g, '-')),
  /** Which device backends this agent drives. */
  BACKENDS: list(BackendSchema).pipe(z.array(BackendSchema).min(1)).default(['simulated']),
  QUEUE_PREFIX: z.string().regex(/^[a-z0-9_-]{1,32}$/).default('farm'),
  /** A run that takes longer than this ends as timed out. */
  RUN_TIMEOUT_MS: envInt(100, 24 * 3_600_000).default(30 * 60_000),
  /** How long SIGTERM waits for runs in progress before it hands them back. */
  SHUTDOWN_GRACE_MS: envInt(0, 3_600_000).default(30_000),
  /** Reports are batched across devices and sent at least this often. */
  REPORT_FLUSH_MS: envInt(0, 10_000).default(2),
  SIM_DEVICES: envInt(0, 10_000).default(6),
  SIM_PROFILES: list(z.enum(PROFILE_NAMES)).default([...PROFILE_NAMES] as ProfileName[]),
  /** Simulated phases sleep for their modelled duration times this factor (0: no sleep). */
  SIM_TIME_SCALE: z.coerce.number().min(0).max(10).default(0.05),
  /** Faults to inject, as kind:serial pairs: `fail:<serial>,lose:<serial>,hang:<serial>`. */
  SIM_FAULTS: z
    .string()
    .default('')
    .transform((value, ctx) => {
      const parsed = parseFaults(value);
      if (typeof parsed === 'string') {
        ctx.addIssue({ code: 'custom', message: parsed });
        return z.NEVER;
      }
      return parsed;
    }),
  SIM_TAGS: list(z.string().min(1).max(64)).default([]),
  /** The inference server, as the devices reach it (the cloud scenario). */
  INFERENCE_URL: envUrl(['http', 'https']).default('http://127.0.0.1:3100'),
  /** bench-web as the devices reach it; unset, the browser backend serves it itself. */
  BENCH_WEB_URL: envUrl(['http', 'https']).optional(),
  /** Headless Chromium devices on this host (browser backend). */
  BROWSER_SLOTS: envInt(1, 32).default(1),
  BROWSER_TAGS: list(z.string().min(1).max(64)).default([]),
  CHROMIUM_PATH: z.string().min(1).default('/usr/bin/chromium'),
  CHROMEDRIVER_PATH: z.string().min(1).default('/usr/bin/chromedriver'),
  LOG_LEVEL: z.enum(['error', 'warn', 'info', 'debug', 'silent']).default('info'),
});

export type AgentConfig = z.output<typeof AgentEnvSchema>;

export function loadAgentConfig(env: NodeJS.ProcessEnv = process.env): AgentConfig {
  return parseEnv(AgentEnvSchema, env);
}
