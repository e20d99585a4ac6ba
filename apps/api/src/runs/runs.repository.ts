import { Injectable } from '@nestjs/common';
import type { Measurement, RunDetails, RunResult, RunStatus, Scenario } from '@farm/contracts';
import type { Sql } from '../prisma/prisma.service';

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
  /** The device's failed checks in a row, as the lock read them. */
  healthFailures: number;
  /** When the current attempt was claimed; null while queued. */
  startedAt: Date | null;
  /** When the current attempt was queued. */
  queuedAt: Date;
}

/** The state an ended attempt leaves its run in. */
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

/** What a batch does to one run. */
export interface RunUpdate {
  id: string;
  /** The run's latest status (the end's, when the attempt ended). */
  status: RunStatus;
  /** The attempt was claimed: it starts now. */
  claimed: boolean;
  end?: RunTransition;
}

/** A measurement batch's idempotency key, with its row count. */
export interface BatchKey {
  runId: string;
  attempt: number;
  batch: number;
  rows: number;
}

export function batchKey(b: { runId: string; attempt: number; batch: number }): string {
  return `${b.runId}.${b.attempt}.${b.batch}`;
}

const SELECT_RUNS = `SELECT r.id, r.job_id AS "jobId", r.device_id AS "deviceId", d.agent_id AS "agentId", r.model,
       r.scenario::text AS scenario, r.attempt, r.status::text AS status, j.status::text AS "jobStatus",
       j.max_attempts AS "maxAttempts", j.priority, j.iterations, j.warmup, j.network, j.deadline_at AS "deadlineAt",
       d.health_failures AS "healthFailures", r.started_at AS "startedAt", r.queued_at AS "queuedAt"
  FROM runs r JOIN jobs j ON j.id = r.job_id JOIN devices d ON d.id = r.device_id`;

/** The rows of one measurement batch, with the attempt they belong to. */
export interface MeasurementRows {
  runId: string;
  attempt: number;
  rows: readonly Measurement[];
}

/**
 * The SQL of the run lifecycle. Each statement works on a whole batch through unnest(), so an
 * agent's report of many runs costs a handful of round trips, not one per row.
 */
@Injectable()
export class RunsRepository {
  /** Reads and row-locks the unfinished runs selected (any run when selected by id). */
  async lock(tx: Sql, where: RunSelection): Promise<LockedRun[]> {
    const [filter, ids] = selectionFilter(where);
    if (ids.length === 0) return [];
    return tx.query<LockedRun>(`${SELECT_RUNS} WHERE ${filter} ORDER BY r.id FOR UPDATE OF r`, [ids]);
  }

  /**
   * Runs queued in [`from`, `before`) that no agent says it holds (an agent may have taken an
   * attempt whose claim has not landed yet), oldest first, after the run `after` (a page's last),
   * unlocked: the dispatch repair re-adds those whose attempt is missing from its device's queue.
   */
  async queuedBetween(sql: Sql, window: { from: Date | undefined; before: Date; after: LockedRun | undefined }, limit: number): Promise<LockedRun[]> {
    const { from, before, after } = window;
    return sql.query<LockedRun>(
      `${SELECT_RUNS} WHERE r.status = 'queued' AND r.queued_at < $1::timestamptz AND ($2::timestamptz IS NULL OR r.queued_at >= $2::timestamptz)
          AND ($3::timestamptz IS NULL OR (r.queued_at, r.id) > ($3::timestamptz, $4::uuid))
          AND (r.lease_expires_at IS NULL OR r.lease_expires_at < now())
        ORDER BY r.queued_at, r.id LIMIT $5`,
      [before, from ?? null, after?.queuedAt ?? null, after?.id ?? null, limit],
    );
  }

  /**
   * Runs in progress whose lease has expired: no heartbeat or report named their attempt for a
   * lease's length. A run another transaction holds is left for the next sweep.
   */
  async lockExpiredLeases(tx: Sql, now: Date): Promise<LockedRun[]> {
    const ids = await tx.query<{ id: string }>(
      `SELECT r.id FROM runs r
        WHERE r.status IN ('preparing', 'running', 'uploading') AND r.lease_expires_at < $1::timestamptz
        LIMIT 5000
          FOR UPDATE SKIP LOCKED`,
      [now],
    );
    return this.lock(tx, { runIds: ids.map((r) => r.id) });
  }

  /**
   * Renews the leases of the attempts an agent says it holds, on its own devices: runs in
   * progress, and queued ones whose claim is still on its way. A run another transaction holds
   * is skipped: that is a report on it, which renews the lease itself, or a change that ends the
   * attempt. Waiting for it instead deadlocked with reports, which lock their runs in id order
   * while an UPDATE locks them in the order its join visits them (PostgreSQL broke each such
   * deadlock after its deadlock_timeout of 1 s, and failed the report or the heartbeat).
   */
  async renewLeases(sql: Sql, agentId: string, attempts: readonly { runId: string; attempt: number }[], leaseMs: number): Promise<number> {
    if (attempts.length === 0) return 0;
    return sql.execute(
      `WITH held AS (
         SELECT r.id FROM runs r
           JOIN unnest($1::uuid[], $2::int[]) AS a(run_id, attempt) ON r.id = a.run_id AND r.attempt = a.attempt
           JOIN devices d ON d.id = r.device_id
          WHERE r.status <> 'finished' AND d.agent_id = $3::uuid
            FOR UPDATE OF r SKIP LOCKED
       )
       UPDATE runs r SET lease_expires_at = now() + $4 * interval '1 millisecond' FROM held WHERE r.id = held.id`,
      [attempts.map((a) => a.runId), attempts.map((a) => a.attempt), agentId, leaseMs],
    );
  }

  /**
   * Records measurement batches by their idempotency key (run, attempt, batch); returns the keys
   * seen for the first time. Rows of any other batch were stored when it first came.
   */
  async recordBatches(tx: Sql, batches: readonly BatchKey[]): Promise<Set<string>> {
    if (batches.length === 0) return new Set();
    const rows = await tx.query<BatchKey>(
      `INSERT INTO measurement_batches (run_id, attempt, batch, rows)
       SELECT * FROM unnest($1::uuid[], $2::int[], $3::int[], $4::int[])
       ON CONFLICT (run_id, attempt, batch) DO NOTHING
       RETURNING run_id AS "runId", attempt, batch, rows`,
      [batches.map((b) => b.runId), batches.map((b) => b.attempt), batches.map((b) => b.batch), batches.map((b) => b.rows)],
    );
    return new Set(rows.map(batchKey));
  }

  /** Active runs of jobs that are cancelled or past their deadline, and queued runs of such jobs. */
  async lockOverdueOrCancelled(tx: Sql, now: Date): Promise<LockedRun[]> {
    const ids = await tx.query<{ id: string }>(
      `SELECT r.id FROM runs r JOIN jobs j ON j.id = r.job_id
        WHERE j.finished_at IS NULL AND r.status <> 'finished' AND j.deadline_at < $1::timestamptz
        LIMIT 5000`,
      [now],
    );
    return this.lock(tx, { runIds: ids.map((r) => r.id) });
  }

  /**
   * One JSON document a statement: PostgreSQL parses it in C, where eight arrays of bound
   * parameters cost the API about twice the CPU to encode (21 against 13 ms a 6,500-row batch).
   * Rows stay grouped by attempt as agents send them, so a run's id is sent once a batch, not
   * once a row.
   */
  async insertMeasurements(tx: Sql, batches: readonly MeasurementRows[]): Promise<number> {
    let inserted = 0;
    // Chunked so one statement stays a bounded size.
    const size = (i: number) => batches[i]?.rows.length ?? 0;
    for (let start = 0; start < batches.length; ) {
      let end = start + 1;
      for (let rows = size(start); end < batches.length && rows + size(end) <= 10_000; end++) rows += size(end);
      inserted += await tx.execute(
        `INSERT INTO measurements (run_id, attempt, iteration, warmup, phase, duration_ms, energy_mj, energy_method)
         SELECT b."runId", b.attempt, m.iteration, m.warmup, m.phase, m."durationMs", m."energyMj", m."energyMethod"
           FROM json_to_recordset($1::json) AS b("runId" uuid, attempt int, rows json),
                json_to_recordset(b.rows) AS m(iteration int, warmup bool, phase "Phase", "durationMs" float8, "energyMj" float8, "energyMethod" "EnergyMethod")
         ON CONFLICT (run_id, attempt, phase, iteration) DO NOTHING`,
        [JSON.stringify(batches.slice(start, end))],
      );
      start = end;
    }
    return inserted;
  }

  async countMeasurements(tx: Sql, refs: readonly { runId: string; attempt: number }[]): Promise<Map<string, number>> {
    if (refs.length === 0) return new Map();
    const rows = await tx.query<{ runId: string; n: number }>(
      `SELECT m.run_id AS "runId", count(*)::int AS n
         FROM measurements m JOIN unnest($1::uuid[], $2::int[]) AS k(run_id, attempt)
           ON m.run_id = k.run_id AND m.attempt = k.attempt
        GROUP BY m.run_id`,
      [refs.map((r) => r.runId), refs.map((r) => r.attempt)],
    );
    return new Map(rows.map((r) => [r.runId, r.n]));
  }

  /** Queued runs whose device has been offline since before `cutoff`. */
  async lockQueuedOnAbsentDevices(tx: Sql, cutoff: Date): Promise<LockedRun[]> {
    const ids = await tx.query<{ id: string }>(
      `SELECT r.id FROM runs r JOIN devices d ON d.id = r.device_id
        WHERE r.status = 'queued' AND d.state = 'offline' AND d.last_seen_at < $1::timestamptz
        LIMIT 5000`,
      [cutoff],
    );
    return this.lock(tx, { runIds: ids.map((r) => r.id) });
  }

  /**
   * Writes what a batch did to its runs, one row version a run whatever the batch held: a
   * claim starts the attempt, the latest status replaces the run's, and an ended attempt
   * sets its outcome (a retry is the next attempt, queued again). An attempt in progress holds
   * its lease for `leaseMs` from now; an ended one holds none.
   */
  async updateRuns(tx: Sql, updates: readonly RunUpdate[], leaseMs: number): Promise<void> {
    if (updates.length === 0) return;
    await tx.execute(
      `UPDATE runs SET status = u.status::"RunStatus",
              attempt = CASE WHEN u.ended THEN u.attempt ELSE runs.attempt END,
              result = CASE WHEN u.ended THEN u.result::"RunResult" ELSE runs.result END,
              error_kind = CASE WHEN u.ended THEN u.error_kind ELSE runs.error_kind END,
              error_message = CASE WHEN u.ended THEN u.error_message ELSE runs.error_message END,
              details = coalesce(u.details, runs.details),
              started_at = CASE WHEN u.status = 'queued' THEN NULL WHEN u.claimed THEN now() ELSE runs.started_at END,
              finished_at = CASE WHEN u.status = 'finished' THEN now() ELSE runs.finished_at END,
              queued_at = CASE WHEN u.ended AND u.status = 'queued' THEN now() ELSE runs.queued_at END,
              lease_expires_at = CASE WHEN u.status IN ('preparing', 'running', 'uploading') THEN now() + $10 * interval '1 millisecond' END
         FROM unnest($1::uuid[], $2::text[], $3::bool[], $4::bool[], $5::text[], $6::int[], $7::text[], $8::text[], $9::jsonb[])
           AS u(id, status, claimed, ended, result, attempt, error_kind, error_message, details)
        WHERE runs.id = u.id`,
      [
        updates.map((u) => u.id),
        updates.map((u) => u.end?.status ?? u.status),
        updates.map((u) => u.claimed),
        updates.map((u) => u.end !== undefined),
        updates.map((u) => u.end?.result ?? null),
        updates.map((u) => u.end?.attempt ?? null),
        updates.map((u) => u.end?.errorKind ?? null),
        updates.map((u) => u.end?.errorMessage ?? null),
        updates.map((u) => (u.end?.details ? JSON.stringify(u.end.details) : null)),
        leaseMs,
      ],
    );
  }

  /**
   * After runs moved: a device is leased while it has a run in progress and available again
   * when it has none (a quarantined or offline device keeps its state), and jobs whose first
   * runs were claimed are running. Reports of a job's first claims arrive side by side from
   * many devices, and each would wait on the job row for the others' commits; so a job row
   * another transaction holds is skipped: that one is starting (or cancelling) the job, and
   * if it rolls back, its agent sends its claims again.
   */
  async settle(tx: Sql, deviceIds: readonly string[], startedJobIds: readonly string[]): Promise<void> {
    if (deviceIds.length === 0 && startedJobIds.length === 0) return;
    await tx.execute(
      `WITH started AS (
         UPDATE jobs SET status = 'running', started_at = coalesce(started_at, now())
          WHERE id IN (SELECT id FROM jobs WHERE id = ANY($2::uuid[]) AND status = 'queued' FOR UPDATE SKIP LOCKED)
       ), wanted AS (
         SELECT d.id, CASE WHEN EXISTS (SELECT 1 FROM runs r WHERE r.device_id = d.id AND r.status IN ('preparing', 'running', 'uploading'))
                      THEN 'leased' ELSE 'available' END::"DeviceState" AS state
           FROM unnest($1::uuid[]) AS d(id)
       )
       UPDATE devices SET state = w.state FROM wanted w
        WHERE devices.id = w.id AND devices.state IN ('available', 'leased') AND devices.state <> w.state`,
      [unique(deviceIds), unique(startedJobIds)],
    );
  }

  /**
   * Counts the attempts that ended because a device failed its checks (`failed` > 0), or
   * clears the count of a device that ran a benchmark (`failed` = 0). A device that reaches
   * `threshold` failures in a row while in service is quarantined; returns those, with why.
   */
  async recordHealth(
    tx: Sql,
    outcomes: readonly { deviceId: string; failed: number; message: string }[],
    threshold: number,
  ): Promise<{ id: string; reason: string }[]> {
    if (outcomes.length === 0) return [];
    const rows = await tx.query<{ id: string; reason: string | null }>(
      `WITH o AS (
         SELECT id, sum(failed)::int AS failed, max(message) AS message FROM unnest($1::uuid[], $2::int[], $3::text[]) AS o(id, failed, message) GROUP BY id
       ), d AS (
         SELECT devices.id, devices.state, devices.health_failures + o.failed AS failures, o.failed, o.message
           FROM devices JOIN o ON o.id = devices.id FOR UPDATE OF devices
       ), q AS (
         SELECT d.*, (d.failed > 0 AND d.failures >= $4 AND d.state IN ('available', 'leased')) AS quarantine,
                format('failed its checks %s times in a row; last: %s', d.failures, d.message) AS reason
           FROM d
       )
       UPDATE devices SET health_failures = CASE WHEN q.failed = 0 THEN 0 ELSE q.failures END,
              state = CASE WHEN q.quarantine THEN 'quarantined'::"DeviceState" ELSE devices.state END,
              quarantine_reason = CASE WHEN q.quarantine THEN q.reason ELSE devices.quarantine_reason END,
              quarantined_at = CASE WHEN q.quarantine THEN now() ELSE devices.quarantined_at END
         FROM q WHERE devices.id = q.id
       RETURNING devices.id, CASE WHEN q.quarantine THEN q.reason END AS reason`,
      [outcomes.map((o) => o.deviceId), outcomes.map((o) => o.failed), outcomes.map((o) => o.message), threshold],
    );
    return rows.flatMap((r) => (r.reason === null ? [] : [{ id: r.id, reason: r.reason }]));
  }

  /** Takes a device out of service; returns false when there is no such device in service. */
  async quarantine(tx: Sql, deviceId: string, reason: string): Promise<boolean> {
    const touched = await tx.execute(
      `UPDATE devices SET state = 'quarantined', quarantine_reason = $2, quarantined_at = now()
        WHERE id = $1::uuid AND state <> 'quarantined'`,
      [deviceId, reason],
    );
    return touched > 0;
  }

  /** Ends the jobs (of the list, or all) whose runs have all finished; returns the ids it ended. */
  async finishCompletedJobs(tx: Sql, jobIds: readonly string[] | 'all'): Promise<string[]> {
    if (jobIds !== 'all' && jobIds.length === 0) return [];
    const rows = await tx.query<{ id: string }>(
      `UPDATE jobs j SET status = CASE WHEN j.status = 'cancelled' THEN 'cancelled'::"JobStatus" ELSE 'finished'::"JobStatus" END,
              finished_at = now()
        WHERE ($1::uuid[] IS NULL OR j.id = ANY($1::uuid[])) AND j.finished_at IS NULL
          AND NOT EXISTS (SELECT 1 FROM runs r WHERE r.job_id = j.id AND r.status <> 'finished')
       RETURNING j.id`,
      [jobIds === 'all' ? null : unique(jobIds)],
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
