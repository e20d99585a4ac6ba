import { BUNDLED_MODELS, DEFAULT_API_PORT, isHttpUrl, type BundledModel } from '@farm/contracts';
import { z } from 'zod';

export interface InferenceServerConfig {
  port: number;
  host: string;
  /** Models loaded at start and kept loaded. */
  models: BundledModel[];
  /** Inferences running at once (one worker thread each). */
  concurrency: number;
  /** Requests allowed to wait for a worker; beyond that, 503 at once. */
  queue: number;
  /** Largest request body accepted, in bytes. */
  maxBytes: number;
  /** Where converted models are cached; the models library's default when absent. */
  cacheDir?: string;
  /** The farm's API, where registered models are fetched from on first use. */
  apiUrl: string;
  /** How long fetching one registered model (spec and files) from the API may take, in ms. */
  modelFetchTimeoutMs: number;
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid environment: ${problems.join('; ')}`);
    this.name = 'ConfigError';
  }
}

/** An unset or blank variable takes the default. */
const blankToUndefined = (v: unknown): unknown => (typeof v === 'string' && v.trim() === '' ? undefined : v);

function integer(min: number, max: number, fallback: number) {
  return z.preprocess(
    blankToUndefined,
    z
      .string()
      .trim()
      .regex(/^\d+$/, `must be an integer from ${min} to ${max}`)
      .transform(Number)
      .pipe(z.number().int().min(min, `must be at least ${min}`).max(max, `must be at most ${max}`))
      .default(fallback),
  );
}

const ModelsSchema = z.preprocess(
  blankToUndefined,
  z
    .string()
    .transform((s) => s.split(',').map((m) => m.trim()).filter((m) => m.length > 0))
    .pipe(
      z
        .array(z.enum(BUNDLED_MODELS, { error: (i) => `unknown model "${String(i.input)}"; expected some of ${BUNDLED_MODELS.join(', ')}` }))
        .min(1, 'must name at least one model')
        .refine((m) => new Set(m).size === m.length, 'must not repeat a model'),
    )
    .default([...BUNDLED_MODELS]),
);

const EnvSchema = z.object({
  PORT: integer(0, 65535, 3100),
  HOST: z.preprocess(blankToUndefined, z.string().trim().default('0.0.0.0')),
  INFERENCE_MODELS: ModelsSchema,
  INFERENCE_CONCURRENCY: integer(1, 64, 2),
  INFERENCE_QUEUE: integer(0, 10_000, 8),
  INFERENCE_MAX_BYTES: integer(1, 100 * 1024 * 1024, 5 * 1024 * 1024),
  MODELS_CACHE_DIR: z.preprocess(blankToUndefined, z.string().optional()),
  API_URL: z.preprocess(blankToUndefined, z.string().trim().refine(isHttpUrl, 'must be an http(s) URL').default(`http://127.0.0.1:${DEFAULT_API_PORT}`)),
  INFERENCE_FETCH_TIMEOUT_MS: integer(100, 600_000, 30_000),
});

/** Reads and validates the settings once; the error names every bad variable. */
export function loadConfig(env: Record<string, string | undefined> = process.env): InferenceServerConfig {
  const parsed = EnvSchema.safeParse(env);
  if (!parsed.success) {
    throw new ConfigError(
      parsed.error.issues.map((issue) => {
        const name = String(issue.path[0] ?? 'environment');
        const value = env[name];
        return `${name}: ${issue.message}${value === undefined ? '' : ` (got "${value}")`}`;
      }),
    );
  }
  const e = parsed.data;
  return {
    port: e.PORT,
    host: e.HOST,
    models: e.INFERENCE_MODELS,
    concurrency: e.INFERENCE_CONCURRENCY,
    queue: e.INFERENCE_QUEUE,
    maxBytes: e.INFERENCE_MAX_BYTES,
    apiUrl: e.API_URL,
    modelFetchTimeoutMs: e.INFERENCE_FETCH_TIMEOUT_MS,
    ...(e.MODELS_CACHE_DIR ? { cacheDir: e.MODELS_CACHE_DIR } : {}),
  };
}
