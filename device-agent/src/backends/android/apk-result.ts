import { PhaseSchema, ScenarioSchema, type Measurement, type Phase, type Scenario } from '@farm/contracts';
import { z } from 'zod';
import { integrateEnergy, samplingRateHz, type PowerSample } from './energy';

/** The result file a native benchmark app writes (docs/android-apk.md). */
export const ApkResultSchema = z.object({
  farmBench: z.literal(1),
  runId: z.string(),
  attempt: z.number().int().min(1),
  model: z.string(),
  scenario: ScenarioSchema,
  runtime: z.record(z.string(), z.union([z.string(), z.number(), z.boolean(), z.null()])).optional(),
  phases: z
    .array(
      z
        .object({
          iteration: z.number().int().min(0),
          warmup: z.boolean(),
          phase: PhaseSchema,
          startMs: z.number().finite(),
          endMs: z.number().finite(),
        })
        .strict(),
    )
    .max(200_000),
  top1: z.object({ className: z.string(), probability: z.number() }).nullable().optional(),
  error: z.string().nullable(),
});
export type ApkResult = z.infer<typeof ApkResultSchema>;

const SCENARIO_PHASES: Record<Scenario, ReadonlySet<Phase>> = {
  on_device: new Set(['model_load', 'preprocess', 'inference', 'postprocess', 'total']),
  cloud: new Set(['preprocess', 'upload', 'server', 'server_preprocess', 'server_inference', 'server_postprocess', 'download', 'total']),
};

/**
 * Reads a result file against the contract and the run it answers; returns why it is not
 * acceptable instead (the run then ends as `benchmark` with that reason).
 */
export function parseApkResult(text: string, expected: { runId: string; attempt: number; scenario: Scenario }): ApkResult | string {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    return `the result file is not JSON: ${error instanceof Error ? error.message : String(error)}`;
  }
  const parsed = ApkResultSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    return `the result file breaks the contract at ${issue?.path.join('.') || '(root)'}: ${issue?.message ?? 'invalid'}`;
  }
  const result = parsed.data;
  if (result.runId !== expected.runId || result.attempt !== expected.attempt) {
    return `the result file is for run ${result.runId} attempt ${result.attempt}, not ${expected.runId} attempt ${expected.attempt}`;
  }
  if (result.scenario !== expected.scenario) return `the result file is for scenario ${result.scenario}, not ${expected.scenario}`;
  const allowed = SCENARIO_PHASES[result.scenario];
  for (const [i, p] of result.phases.entries()) {
    if (!allowed.has(p.phase)) return `phases[${i}]: ${p.phase} is not a phase of ${result.scenario} (${[...allowed].join(', ')})`;
    if (p.endMs < p.startMs) return `phases[${i}] (${p.phase}, iteration ${p.iteration}) ends before it starts`;
  }
  if (result.error === null) {
    const iterations = new Set(result.phases.filter((p) => p.iteration > 0).map((p) => p.iteration));
    const totals = new Set(result.phases.filter((p) => p.phase === 'total').map((p) => p.iteration));
    const missing = [...iterations].filter((i) => !totals.has(i));
    if (missing.length > 0) return `iterations without a total: ${missing.slice(0, 10).join(', ')}`;
  }
  return result;
}

/** How a run's energy was (or was not) measured, kept with the run's details. */
export type EnergyNote =
  | { method: 'battery_current_sampling'; samples: number; samplingHz: number; estimate: false }
  | { method: 'none'; reason: string };

/** A measured phase with when it ran, on the clock of the battery samples. */
export type PhaseSpan = ApkResult['phases'][number];

/**
 * Phases as measurement rows. With a battery trace, each phase's energy is the integral of the
 * battery's power over it; the server's sub-phases carry none (the phone's energy while it
 * waits is in `server`). Without one, no row carries energy, and `note` says why.
 */
export function toMeasurements(phases: readonly PhaseSpan[], trace: { samples: readonly PowerSample[] } | { reason: string }): { rows: Measurement[]; note: EnergyNote } {
  if ('reason' in trace) {
    return {
      rows: phases.map((p) => row(p, null, 'none')),
      note: { method: 'none', reason: trace.reason },
    };
  }
  const charged = phases.filter((p) => !p.phase.startsWith('server_'));
  const energies = integrateEnergy(trace.samples, charged);
  const byPhase = new Map(charged.map((p, i) => [p, energies[i]?.energyMj ?? null]));
  return {
    rows: phases.map((p) => row(p, byPhase.get(p) ?? null, 'battery_current_sampling')),
    note: { method: 'battery_current_sampling', samples: trace.samples.length, samplingHz: samplingRateHz(trace.samples), estimate: false },
  };
}

function row(p: PhaseSpan, energyMj: number | null, energyMethod: Measurement['energyMethod']): Measurement {
  return { iteration: p.iteration, warmup: p.warmup, phase: p.phase, durationMs: p.endMs - p.startMs, energyMj, energyMethod };
}
