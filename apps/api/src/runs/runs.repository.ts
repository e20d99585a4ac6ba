import { Injectable } from '@nestjs/common';
import type { Measurement, RunDetails, RunResult, RunStatus, Scenario } from '@farm/contracts';
import type { Prisma } from '@farm/db';

export type Tx = Prisma.TransactionClient;

/** A run as the lifecycle sees it, read under a row lock. */
export interface LockedRun {
  id: string;
  jobId: string;
  deviceId: string;
  agentId: string;
  model: string;
  scenario: Scenario;
  attempt: number;
  status: RunStatus;
  jobStatus: 'queued' | 'running' | 'finished' | 'cancelled';
  maxAttempts: number;
  priority: number;
  iterations: number;
  warmup: number;
  network: string;
  deadlineAt: Date;
}

/** The state an attempt leaves its run in. */
export interface RunTransition {
  id: string;
  status: RunStatus;
  result: RunResult | null;
  attempt: number;
  errorKind: string | null;
  errorMessage: string | null;
  /** Replaces the run's details when set. */
  details?: RunDetails;
}

export interface MeasurementRow extends Measurement {
  runId: string;
  attempt: number;
}

/**
 * The SQL of the run lifecycle. Each statement works on a whole batch through unnest(), so an
 * agent's report of many runs costs a handful of round trips, not one per row.
 */
@Injectable()
export class RunsRepository {
  /** Reads and row-locks the unfinished runs selected (any run when selected by id). */
  async lock(tx: Tx, where: RunSelection): Promise<LockedRun[]> {
    const [filter, ids] = selectionFilter(where);
    if (ids.length === 0) return [];
    return tx.$queryRawUnsafe<LockedRun[]>(
      `SELECT r.id, r.job_id AS "jobId", r.device_id AS "deviceId", d.agent_id AS "agentId", r.model,
              r.scenario::text AS scenario, r.attempt, r.status::text AS status, j.status::text AS "jobStatus",
              j.max_attempts AS "maxAttempts", j.priority, j.iterations, j.warmup, j.network, j.deadline_at AS "deadlineAt"
         FROM runs r JOIN jobs j ON j.id = r.job_id JOIN devices d ON d.id = r.device_id
        WHERE ${filter}
        ORDER BY r.id
          FOR UPDATE OF r`,
      [...ids],
    );
  }

  /** Active runs of jobs that are cancelled or past their deadline, and queued runs of such jobs. */
  async lockOverdueOrCancelled(tx: Tx, now: Date): Promise<LockedRun[]> {
    const ids = await tx.$queryRawUnsafe<{ id: string }[]>(
      `SELECT r.id FROM runs r JOIN jobs j ON j.id = r.job_id
        WHERE j.finished_at IS NULL AND r.status <> 'finished' AND j.deadline_at < $1
        LIMIT 5000`,
      now,
    );
    return this.lock(tx, { runIds: ids.map((r) => r.id) });
  }

  /** Claimed attempts: the run is preparing, its job running, its device leased (one statement). */
  async markClaimed(tx: Tx, runs: readonly LockedRun[]): Promise<void> {
    if (runs.length === 0) return;
    await tx.$executeRawUnsafe(
      `WITH claimed AS (
         UPDATE runs SET status = 'preparing', started_at = now() WHERE id = ANY($1::uuid[]) RETURNING job_id, device_id
       ), started AS (
         UPDATE jobs SET status = 'running', started_at = coalesce(started_at, now())
          WHERE id IN (SELECT job_id FROM claimed) AND status = 'queued'
       )
       UPDATE devices SET state = 'leased' WHERE id IN (SELECT device_id FROM claimed) AND state = 'available'`,
      runs.map((r) => r.id),
    );
  }

  async setStatus(tx: Tx, updates: readonly { id: string; status: RunStatus }[]): Promise<void> {
    if (updates.length === 0) return;
    await tx.$executeRawUnsafe(
      `UPDATE runs SET status = u.status::"RunStatus"
         FROM unnest($1::uuid[], $2::text[]) AS u(id, status) WHERE runs.id = u.id`,
      updates.map((u) => u.id),
      updates.map((u) => u.status),
    );
  }

  async insertMeasurements(tx: Tx, rows: readonly MeasurementRow[]): Promise<number> {
    let inserted = 0;
    // 8 arrays a statement, whatever the row count: far below the bind-parameter limit,
    // but chunked so one statement stays a bounded size.
    for (let start = 0; start < rows.length; start += 10_000) {
      const chunk = rows.slice(start, start + 10_000);
      inserted += await tx.$executeRawUnsafe(
        `INSERT INTO measurements (run_id, attempt, iteration, warmup, phase, duration_ms, energy_mj, energy_method)
         SELECT * FROM unnest($1::uuid[], $2::int[], $3::int[], $4::bool[], $5::"Phase"[], $6::float8[], $7::float8[], $8::"EnergyMethod"[])
         ON CONFLICT (run_id, attempt, iteration, phase) DO NOTHING`,
        chunk.map((r) => r.runId),
        chunk.map((r) => r.attempt),
        chunk.map((r) => r.iteration),
        chunk.map((r) => r.warmup),
        chunk.map((r) => r.phase),
        chunk.map((r) => r.durationMs),
        chunk.map((r) => r.energyMj),
        chunk.map((r) => r.energyMethod),
      );
    }
    return inserted;
  }

  async countMeasurements(tx: Tx, refs: readonly { runId: string; attempt: number }[]): Promise<Map<string, number>> {
    if (refs.length === 0) return new Map();
    const rows = await tx.$queryRawUnsafe<{ runId: string; n: number }[]>(
      `SELECT m.run_id AS "runId", count(*)::int AS n
         FROM measurements m JOIN unnest($1::uuid[], $2::int[]) AS k(run_id, attempt)
           ON m.run_id = k.run_id AND m.attempt = k.attempt
        GROUP BY m.run_id`,
      refs.map((r) => r.runId),
      refs.map((r) => r.attempt),
    );
    return new Map(rows.map((r) => [r.runId, r.n]));
  }

  async applyTransitions(tx: Tx, transitions: readonly RunTransition[]): Promise<void> {
    if (transitions.length === 0) return;
    await tx.$executeRawUnsafe(
      `UPDATE runs SET status = u.status::"RunStatus", result = u.result::"RunResult", attempt = u.attempt,
              error_kind = u.error_kind, error_message = u.error_message,
              details = coalesce(u.details, runs.details),
              finished_at = CASE WHEN u.status = 'finished' THEN now() END,
              started_at = CASE WHEN u.status = 'queued' THEN NULL ELSE runs.started_at END,
              queued_at = CASE WHEN u.status = 'queued' THEN now() ELSE runs.queued_at END
         FROM unnest($1::uuid[], $2::text[], $3::text[], $4::int[], $5::text[], $6::text[], $7::jsonb[])
           AS u(id, status, result, attempt, error_kind, error_message, details)
        WHERE runs.id = u.id`,
      transitions.map((t) => t.id),
      transitions.map((t) => t.status),
      transitions.map((t) => t.result),
      transitions.map((t) => t.attempt),
      transitions.map((t) => t.errorKind),
      transitions.map((t) => t.errorMessage),
      transitions.map((t) => (t.details ? JSON.stringify(t.details) : null)),
    );
  }

  async releaseDevices(tx: Tx, deviceIds: readonly string[]): Promise<void> {
    if (deviceIds.length === 0) return;
    await tx.$executeRawUnsafe(
      `UPDATE devices SET state = 'available'
        WHERE id = ANY($1::uuid[]) AND state = 'leased'
          AND NOT EXISTS (SELECT 1 FROM runs r WHERE r.device_id = devices.id AND r.status IN ('preparing', 'running', 'uploading'))`,
      unique(deviceIds),
    );
  }

  /** Ends the jobs (of the list, or all) whose runs have all finished; returns the ids it ended. */
  async finishCompletedJobs(tx: Tx, jobIds: readonly string[] | 'all'): Promise<string[]> {
    if (jobIds !== 'all' && jobIds.length === 0) return [];
    const rows = await tx.$queryRawUnsafe<{ id: string }[]>(
      `UPDATE jobs j SET status = CASE WHEN j.status = 'cancelled' THEN 'cancelled'::"JobStatus" ELSE 'finished'::"JobStatus" END,
              finished_at = now()
        WHERE ($1::uuid[] IS NULL OR j.id = ANY($1::uuid[])) AND j.finished_at IS NULL
          AND NOT EXISTS (SELECT 1 FROM runs r WHERE r.job_id = j.id AND r.status <> 'finished')
       RETURNING j.id`,
      jobIds === 'all' ? null : unique(jobIds),
    );
    return rows.map((r) => r.id);
  }
}

export type RunSelection =
  | { runIds: readonly string[] }
  | { agentIds: readonly string[] }
  | { deviceIds: readonly string[] }
  | { jobIds: readonly string[] };

function selectionFilter(where: RunSelection): [string, readonly string[]] {
  if ('runIds' in where) return ['r.id = ANY($1::uuid[])', where.runIds];
  const unfinished = "AND r.status <> 'finished'";
  if ('agentIds' in where) return [`d.agent_id = ANY($1::uuid[]) ${unfinished}`, where.agentIds];
  if ('deviceIds' in where) return [`r.device_id = ANY($1::uuid[]) ${unfinished}`, where.deviceIds];
  return [`r.job_id = ANY($1::uuid[]) ${unfinished}`, where.jobIds];
}

export function unique<T>(items: readonly T[]): T[] {
  return [...new Set(items)];
}
