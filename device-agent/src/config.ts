import { homedir, hostname } from 'node:os';
import path from 'node:path';
import {
  BackendSchema,
  DEFAULT_API_PORT,
  DEFAULT_REDIS_URL,
  envInt,
  envUrl,
  parseEnv,
} from '@farm/contracts';
import { z } from 'zod';
import { parseFaults, parseSlowdowns } from './backends/simulated/faults';
import { PROFILE_NAMES, type ProfileName } from './backends/simulated/profiles';

/** A comma-separated list of values, each validated by `item`. */
const list = <T extends z.ZodType<unknown, string>>(item: T) =>
  z
    .string()
    .transform((s) => s.split(',').map((x) => x.trim()).filter(Boolean))
    .pipe(z.array(item));

/** A string read by `parse`, which returns its value or a message naming what is wrong; empty by default. */
const parsedWith = <T>(parse: (value: string) => T | string) =>
  z
    .string()
    .default('')
    .transform((value, ctx) => {
      const parsed = parse(value);
      if (typeof parsed === 'string') {
        ctx.addIssue({ code: 'custom', message: parsed });
        return z.NEVER;
      }
      return parsed;
    });

const AgentEnvSchema = z.object({
  API_URL: envUrl(['http', 'https']).default(`http://127.0.0.1:${DEFAULT_API_PORT}`),
  REDIS_URL: envUrl(['redis', 'rediss']).default(DEFAULT_REDIS_URL),
  /** This agent's own token (role agent, bound to AGENT_NAME). */
  AGENT_TOKEN: z.string({ error: 'is required: a token of this agent, made by `npm run token -- create --role agent --agent <AGENT_NAME>`' }).min(8),
  AGENT_NAME: z.string().regex(/^[A-Za-z0-9_.-]{1,100}$/, 'must be letters, digits, "_", "." or "-"').default(hostname().replace(/[^A-Za-z0-9_.-]/g, '-')),
  /** Which device backends this agent drives. */
  BACKENDS: list(BackendSchema).pipe(z.array(BackendSchema).min(1)).default(['simulated']),
  QUEUE_PREFIX: z.string().regex(/^[a-z0-9_-]{1,32}$/).default('farm'),
  /** A run that takes longer than this ends as timed out. */
  RUN_TIMEOUT_MS: envInt(100, 24 * 3_600_000).default(30 * 60_000),
  /** How long SIGTERM waits for runs in progress before it hands them back. */
  SHUTDOWN_GRACE_MS: envInt(0, 3_600_000).default(30_000),
  /** Where the agent keeps reports on disk until the API has them (a file per agent name). */
  OUTBOX_DIR: z.string().min(1).default(path.join(homedir(), '.local', 'state', 'farm-agent', 'outbox')),
  /** Reports are batched across devices and sent at least this often. */
  REPORT_FLUSH_MS: envInt(0, 10_000).default(2),
  SIM_DEVICES: envInt(0, 10_000).default(6),
  SIM_PROFILES: list(z.enum(PROFILE_NAMES)).default([...PROFILE_NAMES] as ProfileName[]),
  /** Simulated phases sleep for their modelled duration times this factor (0: no sleep). */
  SIM_TIME_SCALE: z.coerce.number().min(0).max(10).default(0.05),
  /** Faults to inject, as kind:serial pairs: `fail:<serial>,lose:<serial>,hang:<serial>`. */
  SIM_FAULTS: parsedWith(parseFaults),
  /** Injected slowdowns, `<profile>:<phase>:<factor>:<from ISO time>,...`; they reach the backend with SIM_FAULTS. */
  SIM_SLOWDOWN: parsedWith(parseSlowdowns),
  SIM_TAGS: list(z.string().min(1).max(64)).default([]),
  /** A device lost by the `lose` fault comes back after this long; unset, it stays away. */
  SIM_RETURN_MS: envInt(0, 3_600_000).optional(),
  /** The inference server, as the devices reach it (the cloud scenario). */
  INFERENCE_URL: envUrl(['http', 'https']).default('http://127.0.0.1:3100'),
  /** bench-web as the devices reach it; unset, the browser backend serves it itself. */
  BENCH_WEB_URL: envUrl(['http', 'https']).optional(),
  /** Headless Chromium devices on this host (browser backend). */
  BROWSER_SLOTS: envInt(1, 32).default(1),
  BROWSER_TAGS: list(z.string().min(1).max(64)).default([]),
  CHROMIUM_PATH: z.string().min(1).default('/usr/bin/chromium'),
  CHROMEDRIVER_PATH: z.string().min(1).default('/usr/bin/chromedriver'),
  /** The adb binary (android backend); each command's time limit. */
  ADB_PATH: z.string().min(1).default('adb'),
  ADB_TIMEOUT_MS: envInt(500, 300_000).default(15_000),
  /** What runs the benchmark on a phone: bench-web in Chrome, or a native app (docs/android-apk.md). */
  ANDROID_RUNNER: z.enum(['chrome', 'apk']).default('chrome'),
  /** The native benchmark app's activity, package/.Activity, for the apk runner. */
  ANDROID_APK_COMPONENT: z.string().regex(/^[\w.]+\/[\w.$]+$/, 'must be package/Activity, e.g. org.example.bench/.BenchmarkActivity').optional(),
  /** Appium's automation for phones: UiAutomator2 on a rack; FarmTest drives the test phone. */
  ANDROID_AUTOMATION_NAME: z.string().min(1).default('UiAutomator2'),
  ANDROID_MIN_BATTERY_PCT: z.coerce.number().min(0).max(100).default(20),
  ANDROID_MAX_TEMPERATURE_C: z.coerce.number().min(0).max(80).default(38),
  ANDROID_COOLDOWN_MS: envInt(0, 3_600_000).default(300_000),
  /** Battery current and voltage are read this often while a run goes. */
  ANDROID_SAMPLE_MS: envInt(10, 10_000).default(100),
  ANDROID_CURRENT_UNIT: z.enum(['uA', 'mA']).default('uA'),
  ANDROID_CURRENT_SIGN: z.enum(['infer', 'discharge-positive', 'discharge-negative']).default('infer'),
  ANDROID_DISCOVERY_MS: envInt(200, 600_000).default(2_000),
  ANDROID_HEALTH_TTL_MS: envInt(0, 600_000).default(10_000),
  ANDROID_TAGS: list(z.string().min(1).max(64)).default([]),
  LOG_LEVEL: z.enum(['error', 'warn', 'info', 'debug', 'silent']).default('info'),
})
  .refine((c) => !c.BACKENDS.includes('android') || c.ANDROID_RUNNER !== 'apk' || c.ANDROID_APK_COMPONENT !== undefined, {
    path: ['ANDROID_APK_COMPONENT'],
    message: 'is required with ANDROID_RUNNER=apk: the benchmark app to start on the phones (docs/android-apk.md)',
  })
  .transform(({ SIM_SLOWDOWN, ...config }) => ({ ...config, SIM_FAULTS: { ...config.SIM_FAULTS, slowdowns: SIM_SLOWDOWN } }));

export type AgentConfig = z.output<typeof AgentEnvSchema>;

export function loadAgentConfig(env: NodeJS.ProcessEnv = process.env): AgentConfig {
  return parseEnv(AgentEnvSchema, env);
}
