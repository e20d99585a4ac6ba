// The contract between bench-web and whoever drives it (a person, the browser backend, an
// Android backend): URL parameters, the window API and the result. Browser-safe and free of
// runtime dependencies, so the page stays small and the agent can use it too.
import { MODEL_NAME } from './models';
import type { Measurement } from './results';
import type { BundledModel, Phase, Scenario } from './vocabulary';

export const BENCH_WEB_VERSION = '0.1.0';

export const BENCH_MODELS: readonly BundledModel[] = ['mobilenet_v2', 'mobilenet_v2_mid', 'inception_v3'];
export const BENCH_SCENARIOS: readonly Scenario[] = ['on_device', 'cloud'];
export const TF_BACKENDS = ['wasm', 'webgl', 'cpu'] as const;
export type TfBackendName = (typeof TF_BACKENDS)[number];

export const LIMITS = {
  iterations: { min: 1, max: 10_000 },
  warmup: { min: 0, max: 1_000 },
  topk: { min: 1, max: 5 },
  jpegQuality: { min: 1, max: 100 },
} as const;

export const DEFAULT_JPEG_QUALITY = 95;

/**
 * How far the leaf phases of one iteration may stray from its `total`, in ms. Phases are
 * differences of consecutive readings of one clock, so they add up to `total` exactly; the only
 * departure is `upload` clamped at 0 when timer coarsening (100 µs per reading in a page that is
 * not cross-origin isolated) makes headers seem to arrive before the server's reported time.
 */
export const PHASE_SUM_TOLERANCE_MS = 0.5;

/** The phases that partition an iteration's `total` (the server_* ones lie inside `server`). */
export const LEAF_PHASES: Readonly<Record<Scenario, readonly Phase[]>> = {
  on_device: ['preprocess', 'inference', 'postprocess'],
  cloud: ['preprocess', 'upload', 'server', 'download'],
};

/** Phases recorded for every inference iteration (iteration 0 holds on_device's model_load). */
export const ITERATION_PHASES: Readonly<Record<Scenario, readonly Phase[]>> = {
  on_device: ['preprocess', 'inference', 'postprocess', 'total'],
  cloud: ['preprocess', 'upload', 'server', 'server_preprocess', 'server_inference', 'server_postprocess', 'download', 'total'],
};

export interface BenchParams {
  /** A bundled model, or one registered through the farm's API (then `apiUrl` is required). */
  model: string;
  scenario: Scenario;
  /** Measured iterations, after the warm-up ones. */
  iterations: number;
  /** Warm-up iterations, run first and flagged. */
  warmup: number;
  /** Base URL of the inference server; required for `cloud`. */
  inferenceUrl?: string;
  /** Base URL of the farm's API, where a registered model's spec and files are; required for one. */
  apiUrl?: string;
  /** Test images, used in turn; default every image of the page's set. */
  images?: string[];
  topk?: number;
  /** tfjs backend for `on_device`; default wasm. */
  backend?: TfBackendName;
  /** JPEG quality of the re-encoded upload in `cloud`; default 95 (DEFAULT_JPEG_QUALITY). */
  jpegQuality?: number;
}

/** URL query names of each parameter. */
export const QUERY_NAMES = {
  model: 'model',
  scenario: 'scenario',
  iterations: 'iterations',
  warmup: 'warmup',
  inferenceUrl: 'inference',
  apiUrl: 'api',
  images: 'images',
  topk: 'topk',
  backend: 'backend',
  jpegQuality: 'quality',
  autostart: 'autostart',
} as const;

export type BenchStatus = 'idle' | 'running' | 'done' | 'error';

export interface BenchState {
  status: BenchStatus;
  /** Iterations finished (model_load counts as none) out of warm-up + measured ones. */
  progress: { iteration: number; of: number };
  error?: string;
}

export interface Top1 {
  iteration: number;
  image: string;
  className: string;
  probability: number;
}

export interface ModelLoadBreakdown {
  /** tf.setBackend + tf.ready: fetch, compile and instantiate the backend (the wasm binary). */
  backendInitMs: number;
  /** Fetch model.json and weights.bin, parse the JSON. */
  fetchMs: number;
  /** Build the model on the backend, including dequantizing the uint8 weights. */
  buildMs: number;
  /**
   * Hash the fetched weights and compare with the registry's sha256 (registered models only; null
   * for bundled ones). Between fetch and build, and left out of model_load.
   */
  verifyMs: number | null;
}

export interface BenchResult {
  version: string;
  /** The tfjs backend that ran on_device inference; `none` for cloud. */
  backend: string;
  tfjsVersion: string;
  userAgent: string;
  crossOriginIsolated: boolean;
  /** Smallest step of performance.now() seen in this page, ms. */
  timerResolutionMs: number;
  /** The wasm backend's build, when it ran. */
  wasm: { simd: boolean; threads: boolean } | null;
  model: string;
  scenario: Scenario;
  params: Required<Omit<BenchParams, 'inferenceUrl' | 'apiUrl'>> & { inferenceUrl: string | null; apiUrl: string | null };
  measurements: Measurement[];
  /** performance.timeOrigin of the page: the epoch ms its performance.now() counts from. */
  timeOrigin: number;
  /** When each of `measurements` started, on the page's performance.now() timeline (same order). */
  phaseStarts: number[];
  top1: Top1[];
  modelLoad: ModelLoadBreakdown | null;
  /** Cloud iterations whose upload/download split came from Resource Timing, or from fetch alone. */
  cloudSplit: { resourceTiming: number; fetch: number } | null;
  startedAt: string;
  finishedAt: string | null;
}

/** What a page exposes as `window.benchWeb`. */
export interface BenchWebApi {
  version: string;
  start(params: BenchParams): Promise<void>;
  state(): BenchState;
  /** The result so far; complete once the state is `done`. */
  results(): BenchResult;
}

export type ParamsInput = Record<string, string | undefined>;

export type ParseOutcome = { ok: true; params: BenchParams } | { ok: false; problems: string[] };

/** `autostart`, `autostart=1` or `autostart=true` start the benchmark as soon as the page loads. */
export function wantsAutostart(input: ParamsInput): boolean {
  const raw = input[QUERY_NAMES.autostart]?.trim().toLowerCase();
  return raw === '' || raw === '1' || raw === 'true';
}

function intParam(input: ParamsInput, key: keyof typeof LIMITS, name: string, fallback: number | undefined, problems: string[]): number | undefined {
  const raw = input[name];
  if (raw === undefined || raw.trim() === '') {
    if (fallback === undefined) problems.push(`${name}: is required`);
    return fallback;
  }
  const { min, max } = LIMITS[key];
  if (!/^\d+$/.test(raw.trim())) {
    problems.push(`${name}: must be an integer from ${min} to ${max} (got "${raw}")`);
    return undefined;
  }
  const value = Number(raw);
  if (value < min || value > max) problems.push(`${name}: must be from ${min} to ${max} (got ${value})`);
  return value;
}

export function isHttpUrl(value: string): boolean {
  try {
    const url = new URL(value);
    return url.protocol === 'http:' || url.protocol === 'https:';
  } catch {
    return false;
  }
}

/** Validates parameters given as strings (a URL query); problems name the query parameter. */
export function parseBenchParams(input: ParamsInput): ParseOutcome {
  const problems: string[] = [];
  const q = QUERY_NAMES;
  const model = input[q.model]?.trim() ?? '';
  const bundled = (BENCH_MODELS as readonly string[]).includes(model);
  if (!MODEL_NAME.test(model)) {
    problems.push(`${q.model}: must be one of ${BENCH_MODELS.join(', ')} or a registered model's name (got "${model}")`);
  }
  const scenario = input[q.scenario]?.trim() ?? '';
  if (!(BENCH_SCENARIOS as readonly string[]).includes(scenario)) {
    problems.push(`${q.scenario}: must be one of ${BENCH_SCENARIOS.join(', ')} (got "${scenario}")`);
  }
  const iterations = intParam(input, 'iterations', q.iterations, undefined, problems);
  const warmup = intParam(input, 'warmup', q.warmup, 0, problems);
  const topk = intParam(input, 'topk', q.topk, LIMITS.topk.max, problems);
  const jpegQuality = intParam(input, 'jpegQuality', q.jpegQuality, DEFAULT_JPEG_QUALITY, problems);

  const inferenceUrl = input[q.inferenceUrl]?.trim() || undefined;
  if (inferenceUrl !== undefined && !isHttpUrl(inferenceUrl)) problems.push(`${q.inferenceUrl}: must be an http(s) URL (got "${inferenceUrl}")`);
  if (scenario === 'cloud' && inferenceUrl === undefined) problems.push(`${q.inferenceUrl}: is required for the cloud scenario`);

  const apiUrl = input[q.apiUrl]?.trim() || undefined;
  if (apiUrl !== undefined && !isHttpUrl(apiUrl)) problems.push(`${q.apiUrl}: must be an http(s) URL (got "${apiUrl}")`);
  if (!bundled && MODEL_NAME.test(model) && apiUrl === undefined) problems.push(`${q.apiUrl}: is required for a model that is not bundled ("${model}")`);

  const backend = input[q.backend]?.trim() || 'wasm';
  if (!(TF_BACKENDS as readonly string[]).includes(backend)) problems.push(`${q.backend}: must be one of ${TF_BACKENDS.join(', ')} (got "${backend}")`);

  const imagesRaw = input[q.images]?.trim();
  const images = imagesRaw ? imagesRaw.split(',').map((s) => s.trim()).filter((s) => s.length > 0) : undefined;
  for (const image of images ?? []) {
    if (!/^[A-Za-z0-9_.-]+\.(jpe?g|png)$/.test(image) || image.startsWith('.')) problems.push(`${q.images}: "${image}" is not an image file name`);
  }

  if (problems.length > 0) return { ok: false, problems };
  return {
    ok: true,
    params: {
      model,
      scenario: scenario as Scenario,
      iterations: iterations as number,
      warmup: warmup as number,
      topk,
      jpegQuality,
      backend: backend as TfBackendName,
      ...(inferenceUrl !== undefined ? { inferenceUrl } : {}),
      ...(apiUrl !== undefined ? { apiUrl } : {}),
      ...(images ? { images } : {}),
    },
  };
}

/** Validates parameters given as an object (window.benchWeb.start). */
export function checkBenchParams(params: BenchParams): ParseOutcome {
  return parseBenchParams(toQueryRecord(params));
}

function toQueryRecord(params: BenchParams): ParamsInput {
  const q = QUERY_NAMES;
  const record: ParamsInput = {
    [q.model]: String(params.model),
    [q.scenario]: String(params.scenario),
    [q.iterations]: String(params.iterations),
    [q.warmup]: String(params.warmup),
  };
  if (params.inferenceUrl !== undefined) record[q.inferenceUrl] = params.inferenceUrl;
  if (params.apiUrl !== undefined) record[q.apiUrl] = params.apiUrl;
  if (params.images !== undefined) record[q.images] = params.images.join(',');
  if (params.topk !== undefined) record[q.topk] = String(params.topk);
  if (params.backend !== undefined) record[q.backend] = params.backend;
  if (params.jpegQuality !== undefined) record[q.jpegQuality] = String(params.jpegQuality);
  return record;
}

/** The query string that opens the page with these parameters. */
export function benchQuery(params: BenchParams, options: { autostart?: boolean } = {}): string {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(toQueryRecord(params))) if (value !== undefined) search.set(key, value);
  if (options.autostart) search.set(QUERY_NAMES.autostart, '1');
  return search.toString();
}

export interface PhaseSumMismatch {
  iteration: number;
  sumMs: number;
  totalMs: number;
}

/** Iterations whose leaf phases do not add up to their `total` within PHASE_SUM_TOLERANCE_MS. */
export function phaseSumMismatches(scenario: Scenario, measurements: readonly Measurement[]): PhaseSumMismatch[] {
  const leaves = new Set<Phase>(LEAF_PHASES[scenario]);
  const byIteration = new Map<number, { sum: number; total: number | null }>();
  for (const m of measurements) {
    if (m.iteration === 0) continue;
    const entry = byIteration.get(m.iteration) ?? { sum: 0, total: null };
    if (m.phase === 'total') entry.total = m.durationMs;
    else if (leaves.has(m.phase)) entry.sum += m.durationMs;
    byIteration.set(m.iteration, entry);
  }
  const out: PhaseSumMismatch[] = [];
  for (const [iteration, { sum, total }] of byIteration) {
    if (total === null || Math.abs(sum - total) > PHASE_SUM_TOLERANCE_MS) out.push({ iteration, sumMs: sum, totalMs: total ?? NaN });
  }
  return out.sort((a, b) => a.iteration - b.iteration);
}
