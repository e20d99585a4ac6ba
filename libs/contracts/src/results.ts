import { z } from 'zod';
import { EnergyMethodSchema, ErrorKindSchema, PhaseSchema, RunStatusSchema, ScenarioSchema } from './vocabulary';

/**
 * One measured phase of one iteration. Iteration 0 holds a run's cold model load;
 * inference iterations count from 1, warm-up ones first.
 */
export const MeasurementSchema = z
  .object({
    iteration: z.number().int().min(0),
    warmup: z.boolean(),
    phase: PhaseSchema,
    durationMs: z.number().finite().min(0),
    energyMj: z.number().finite().min(0).nullable(),
    energyMethod: EnergyMethodSchema,
  })
  .strict();
export type Measurement = z.infer<typeof MeasurementSchema>;

/** The payload of one dispatched attempt of a run, as an agent receives it from the queue. */
export const RunAssignmentSchema = z.object({
  runId: z.uuid(),
  jobId: z.uuid(),
  attempt: z.number().int().min(1),
  deviceId: z.uuid(),
  model: z.string(),
  scenario: ScenarioSchema,
  iterations: z.number().int().min(1),
  warmup: z.number().int().min(0),
  network: z.string(),
  deadlineAt: z.string(),
});
export type RunAssignment = z.infer<typeof RunAssignmentSchema>;

/**
 * What a device says about an attempt beside its measurements: the runtime and its versions,
 * the classes it computed. Kept with the run; at most 64 KB.
 */
export const RunDetailsSchema = z
  .record(z.string(), z.json())
  .refine((details) => JSON.stringify(details).length <= 65_536, 'must be at most 64 KB of JSON');
export type RunDetails = z.infer<typeof RunDetailsSchema>;

const RunRef = { runId: z.uuid(), attempt: z.number().int().min(1) };

/**
 * What agents report about runs, batched across devices. `claim` asks to start an attempt
 * (refused when the attempt is stale or the run was cancelled); `measurements` carries a batch
 * of rows under an idempotency key (run, attempt, batch); `finish` ends the attempt.
 */
export const RunReportSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('claim'), ...RunRef }).strict(),
  z.object({ type: z.literal('status'), ...RunRef, status: RunStatusSchema.exclude(['queued', 'finished']) }).strict(),
  z
    .object({
      type: z.literal('measurements'),
      ...RunRef,
      batch: z.number().int().min(0),
      rows: z.array(MeasurementSchema).min(1).max(5000),
    })
    .strict(),
  z
    .object({
      type: z.literal('finish'),
      ...RunRef,
      /** How many measurement rows the agent sent for this attempt; the API checks it. */
      rows: z.number().int().min(0),
      /** Absent when the attempt passed. */
      error: z.object({ kind: ErrorKindSchema, message: z.string().max(4000) }).strict().optional(),
      details: RunDetailsSchema.optional(),
    })
    .strict(),
]);
export type RunReport = z.infer<typeof RunReportSchema>;

export const RunReportBatchSchema = z.object({ reports: z.array(RunReportSchema).min(1).max(2000) }).strict();
export type RunReportBatch = z.infer<typeof RunReportBatchSchema>;

/** The answer to each report, in order: applied, or refused with the reason. */
export interface RunReportAck {
  runId: string;
  ok: boolean;
  /** Set when the run must stop: it was cancelled, its attempt is stale or it has finished. */
  stop?: 'cancelled' | 'stale' | 'finished' | 'unknown_run';
  /** A measurement batch whose key (run, attempt, batch) was already stored: its rows were skipped. */
  duplicate?: boolean;
}
