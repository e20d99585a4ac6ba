import { MeasurementSchema, type Measurement, type RunAssignment } from '@farm/contracts';
import { z } from 'zod';
import { ITERATION_PHASES, phaseSumMismatches, PHASE_SUM_TOLERANCE_MS, type BenchState } from '@farm/contracts';

/** What `window.benchWeb.state()` returns, as the agent accepts it from the page. */
export const BenchStateSchema = z.object({
  status: z.enum(['idle', 'running', 'done', 'error']),
  progress: z.object({ iteration: z.number().int().min(0), of: z.number().int().min(0) }),
  error: z.string().optional(),
}) satisfies z.ZodType<BenchState>;

const Ms = z.number().finite().min(0);

/** What `window.benchWeb.results()` returns; only the fields the agent relies on are strict. */
export const BenchResultSchema = z.object({
  version: z.string(),
  backend: z.string(),
  tfjsVersion: z.string(),
  userAgent: z.string(),
  crossOriginIsolated: z.boolean(),
  timerResolutionMs: Ms,
  wasm: z.object({ simd: z.boolean(), threads: z.boolean() }).nullable(),
  model: z.string(),
  scenario: z.enum(['on_device', 'cloud']),
  params: z.object({ iterations: z.number().int(), warmup: z.number().int() }).loose(),
  measurements: z.array(MeasurementSchema),
  timeOrigin: z.number().finite(),
  phaseStarts: z.array(z.number().finite()),
  top1: z.array(z.object({ iteration: z.number().int().min(1), image: z.string(), className: z.string(), probability: z.number() })),
  modelLoad: z.object({ backendInitMs: Ms, fetchMs: Ms, buildMs: Ms, verifyMs: Ms.nullable() }).nullable(),
  cloudSplit: z.object({ resourceTiming: z.number().int(), fetch: z.number().int() }).nullable(),
  startedAt: z.string(),
  finishedAt: z.string().nullable(),
});

export type CheckedBenchResult = z.infer<typeof BenchResultSchema>;

/**
 * Checks a finished page's result against the run it was asked for, and returns its rows.
 * Throws a message naming the first problem: a result that fails here is not recorded at all.
 */
export function checkBenchResult(raw: unknown, assignment: Pick<RunAssignment, 'model' | 'scenario' | 'iterations' | 'warmup'>): { result: CheckedBenchResult; rows: Measurement[] } {
  const parsed = BenchResultSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new Error(`the page's result does not match the contract at ${issue?.path.join('.') || '(root)'}: ${issue?.message ?? 'invalid'}`);
  }
  const result = parsed.data;
  const { model, scenario, iterations, warmup } = assignment;
  if (result.model !== model || result.scenario !== scenario) throw new Error(`the page ran ${result.model}/${result.scenario}, not ${model}/${scenario}`);
  if (result.params.iterations !== iterations || result.params.warmup !== warmup) {
    throw new Error(`the page ran ${result.params.warmup}+${result.params.iterations} iterations, not ${warmup}+${iterations}`);
  }

  const rows = result.measurements;
  if (result.phaseStarts.length !== rows.length) throw new Error(`the page gave ${result.phaseStarts.length} phase starts for ${rows.length} measurements`);
  const expected = new Set<string>();
  if (scenario === 'on_device') expected.add('0:model_load');
  for (let i = 1; i <= warmup + iterations; i++) for (const phase of ITERATION_PHASES[scenario]) expected.add(`${i}:${phase}`);
  const seen = new Set<string>();
  for (const row of rows) {
    const key = `${row.iteration}:${row.phase}`;
    if (!expected.has(key)) throw new Error(`unexpected row: iteration ${row.iteration}, phase ${row.phase}`);
    if (seen.has(key)) throw new Error(`duplicate row: iteration ${row.iteration}, phase ${row.phase}`);
    seen.add(key);
    if (row.warmup !== (row.iteration >= 1 && row.iteration <= warmup)) throw new Error(`iteration ${row.iteration} has the wrong warm-up flag`);
    if (row.energyMethod !== 'none' || row.energyMj !== null) throw new Error('the browser measures no energy: rows must say energyMethod none');
  }
  if (seen.size !== expected.size) throw new Error(`the result has ${seen.size} of ${expected.size} expected rows`);
  const mismatch = phaseSumMismatches(scenario, rows)[0];
  if (mismatch) {
    throw new Error(
      `iteration ${mismatch.iteration}: phases add up to ${mismatch.sumMs.toFixed(3)} ms but total is ${mismatch.totalMs.toFixed(3)} ms (tolerance ${PHASE_SUM_TOLERANCE_MS} ms)`,
    );
  }
  return { result, rows };
}
