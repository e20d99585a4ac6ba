import { Inject, Injectable, Logger } from '@nestjs/common';
import {
  ERROR_KINDS,
  type ErrorKind,
  type RunAssignment,
  type RunDetails,
  type RunReport,
  type RunReportAck,
  type StopRunsEvent,
} from '@farm/contracts';
import { API_CONFIG, type ApiConfig } from '../config/config';
import { DispatchService, type Dispatchable, type QueuedAttempt } from '../dispatch/dispatch.service';
import { MetricsService, type EndedRun } from '../metrics/metrics.service';
import { PrismaService, type Sql } from '../prisma/prisma.service';
import {
  RunsRepository,
  batchKey,
  unique,
  type BatchKey,
  type LockedRun,
  type MeasurementRows,
  type RunSelection,
  type RunTransition,
  type RunUpdate,
} from './runs.repository';

interface AttemptError {
  kind: ErrorKind;
  message: string;
}

/** What a transaction leaves for after its commit: queue work and stop signals. */
interface Effects {
  enqueue: Dispatchable[];
  /** Jobs whose runs this transaction ended: each may now be complete. */
  jobs: Set<string>;
  /** Queued jobs whose first runs this transaction claimed. */
  started: Set<string>;
  remove: QueuedAttempt[];
  stop: { runIds: string[]; reason: StopRunsEvent['reason'] }[];
  /** Runs this transaction finished, told to the metrics and the log after the commit. */
  ended: (EndedRun & { runId: string; jobId: string; deviceId: string; attempt: number; errorKind: string | null })[];
  /** Measurement rows of the request's new batches and how many were new. */
  stored: { batches: MeasurementRows[]; inserted: number };
}

/**
 * The run state machine: claims, progress, results, retries, cancellation, recovery and
 * deadlines. Every change happens under row locks on the runs it touches, and checks the
 * attempt, so a late or repeated message from an agent can never move a run twice.
 */
@Injectable()
export class RunLifecycleService {
  private readonly logger = new Logger(RunLifecycleService.name);

  constructor(
    @Inject(API_CONFIG) private readonly config: ApiConfig,
    private readonly prisma: PrismaService,
    private readonly runs: RunsRepository,
    private readonly dispatch: DispatchService,
    private readonly metrics: MetricsService,
  ) {}

  async applyReports(agentId: string, reports: readonly RunReport[]): Promise<RunReportAck[]> {
    return this.transact(async (tx, effects) => {
      const locked = new Map((await this.runs.lock(tx, { runIds: unique(reports.map((r) => r.runId)) })).map((r) => [r.id, r]));
      const acks: RunReportAck[] = [];
      const updates = new Map<string, DeviceRunUpdate>();
      const batches = new Map<string, { key: BatchKey; rows: MeasurementRows; acks: RunReportAck[] }>();
      const finishes: { run: LockedRun; rows: number; error: AttemptError | undefined; details: RunDetails | undefined }[] = [];

      for (const report of reports) {
        const run = locked.get(report.runId);
        const refusal = refuse(run, agentId, report);
        if (refusal || !run) {
          acks.push({ runId: report.runId, ok: false, stop: refusal ?? 'unknown_run' });
          continue;
        }
        const update = updates.get(run.id) ?? { id: run.id, deviceId: run.deviceId, status: run.status, claimed: false };
        updates.set(run.id, update);
        switch (report.type) {
          case 'claim':
            // A claim repeated (its answer was lost, the request sent again) changes nothing.
            if (run.status !== 'queued') break;
            update.claimed = true;
            run.startedAt = new Date();
            run.status = update.status = 'preparing';
            if (run.jobStatus === 'queued') effects.started.add(run.jobId);
            break;
          case 'status':
            run.status = update.status = report.status;
            break;
          case 'measurements': {
            // A batch is stored once under its key; the same batch twice in one request counts as a repeat too.
            const key = { runId: run.id, attempt: run.attempt, batch: report.batch, rows: report.rows.length };
            const ack: RunReportAck = { runId: report.runId, ok: true };
            const seen = batches.get(batchKey(key));
            if (seen) {
              ack.duplicate = true;
            } else {
              batches.set(batchKey(key), { key, rows: { runId: run.id, attempt: run.attempt, rows: report.rows }, acks: [ack] });
            }
            acks.push(ack);
            continue;
          }
          case 'finish':
            finishes.push({ run: { ...run }, rows: report.rows, error: report.error, details: report.details });
            run.status = 'finished';
            break;
        }
        acks.push({ runId: report.runId, ok: true });
      }

      const fresh = await this.runs.recordBatches(tx, [...batches.values()].map((b) => b.key));
      const rows: MeasurementRows[] = [];
      for (const [key, batch] of batches) {
        if (fresh.has(key)) rows.push(batch.rows);
        else for (const ack of batch.acks) ack.duplicate = true;
      }
      effects.stored = { batches: rows, inserted: await this.runs.insertMeasurements(tx, rows) };
      const stored = await this.runs.countMeasurements(
        tx,
        finishes.filter((f) => !f.error).map((f) => ({ runId: f.run.id, attempt: f.run.attempt })),
      );
      const ends = finishes.map(({ run, rows: sent, error, details }) => {
        const n = stored.get(run.id) ?? 0;
        if (!error && n !== sent) {
          return { run, details, error: { kind: 'infrastructure' as const, message: `agent sent ${sent} rows, ${n} stored` } };
        }
        return { run, details, error };
      });
      await this.apply(tx, [...updates.values()], ends, effects);
      return acks;
    });
  }

  /**
   * An agent died or restarted, or a device was lost: the attempts in progress end, and are
   * retried or end as errored. Queued runs stay queued for the device's return.
   */
  async recover(selection: RunSelection, error: AttemptError): Promise<number> {
    return this.transact(async (tx, effects) => {
      const runs = (await this.runs.lock(tx, selection)).filter((r) => r.status !== 'queued');
      await this.apply(tx, [], runs.map((run) => ({ run, error })), effects);
      return runs.length;
    });
  }

  /**
   * Runs whose lease expired (no heartbeat or report named their attempt for AGENT_TIMEOUT_MS)
   * are recovered like those of a lost agent: an agent alive but no longer running them (its
   * run vanished, it lost the job) gives them back this way.
   */
  async recoverExpiredLeases(now: Date): Promise<number> {
    return this.transact(async (tx, effects) => {
      const runs = await this.runs.lockExpiredLeases(tx, now);
      const error: AttemptError = { kind: 'agent_lost', message: `the run's lease expired: no heartbeat or report named the attempt for ${this.config.AGENT_TIMEOUT_MS} ms` };
      await this.apply(tx, [], runs.map((run) => ({ run, error })), effects);
      return runs.length;
    });
  }

  /**
   * Queued attempts missing from their device's queue (Redis restarted without its data, or
   * was unreachable when they were queued) are added again: those queued in [`since`,
   * `before`), or all queued before `before` when `since` is not given. An attempt still there
   * is left as it is: a job id is added once.
   */
  async requeueMissing(before: Date, since?: Date): Promise<number> {
    let requeued = 0;
    for (let after: LockedRun | undefined; ; ) {
      const queued = await this.runs.queuedBetween(this.prisma.sql, { from: since, before, after }, REPAIR_PAGE);
      const missing = await this.dispatch.missing(queued.map(toAttempt));
      const lost = new Set(missing.map((m) => `${m.runId}.${m.attempt}`));
      const again = queued.filter((run) => lost.has(`${run.id}.${run.attempt}`));
      await this.dispatch.enqueue(again.map((run) => ({ assignment: assignmentOf(run, run.attempt), priority: run.priority })));
      requeued += again.length;
      if (queued.length < REPAIR_PAGE) return requeued;
      after = queued.at(-1);
    }
  }

  /** Cancels a job: queued runs end now, running ones stop at their next phase boundary. */
  async cancelJob(jobId: string): Promise<void> {
    await this.transact(async (tx, effects) => {
      // Runs first, then the job: the same lock order as reports take.
      const runs = (await this.runs.lock(tx, { jobIds: [jobId] })).map((run) => ({ ...run, jobStatus: 'cancelled' as const }));
      await tx.execute(`UPDATE jobs SET status = 'cancelled' WHERE id = $1::uuid AND finished_at IS NULL`, [jobId]);
      const queued = runs.filter((r) => r.status === 'queued');
      await this.apply(tx, [], queued.map((run) => ({ run, error: CANCELLED })), effects);
      effects.jobs.add(jobId);
      effects.remove.push(...queued.map(toAttempt));
      effects.stop.push({ runIds: runs.filter((r) => r.status !== 'queued').map((r) => r.id), reason: 'cancelled' });
    });
  }

  /** Ends the runs of jobs past their deadline as timed out. */
  async expireOverdue(now: Date): Promise<number> {
    return this.transact(async (tx, effects) => {
      const runs = await this.runs.lockOverdueOrCancelled(tx, now);
      const error: AttemptError = { kind: 'deadline', message: 'the job passed its deadline' };
      await this.apply(tx, [], runs.map((run) => ({ run, error })), effects);
      effects.remove.push(...runs.filter((r) => r.status === 'queued').map(toAttempt));
      effects.stop.push({ runIds: runs.filter((r) => r.status !== 'queued').map((r) => r.id), reason: 'deadline' });
      return runs.length;
    });
  }

  /**
   * Ends the queued runs of devices that have been offline for DEVICE_RETURN_MS: a lost device
   * gets that long to come back for its retried runs (and its agent to restart), then they end
   * as errored rather than wait for the job's deadline.
   */
  async expireAbsent(now: Date): Promise<number> {
    return this.transact(async (tx, effects) => {
      const runs = await this.runs.lockQueuedOnAbsentDevices(tx, new Date(now.getTime() - this.config.DEVICE_RETURN_MS));
      const minutes = Math.round(this.config.DEVICE_RETURN_MS / 6_000) / 10;
      const error: AttemptError = { kind: 'device_offline', message: `the device stayed offline for more than ${minutes} min` };
      await this.apply(tx, [], runs.map((run) => ({ run, error })), effects);
      effects.remove.push(...runs.map(toAttempt));
      return runs.length;
    });
  }

  /** Ends every job whose runs have all finished (a repair: normally done after each commit). */
  async finishCompletedJobs(): Promise<number> {
    const finished = await this.runs.finishCompletedJobs(this.prisma.sql, 'all');
    for (const jobId of finished) this.logger.log({ msg: 'job finished', jobId });
    return finished.length;
  }

  /** Takes a device out of service for an operator: its queued runs end, a running one finishes. */
  async quarantine(deviceId: string, reason: string): Promise<boolean> {
    return this.transact(async (tx, effects) => {
      if (!(await this.runs.quarantine(tx, deviceId, reason))) return false;
      await this.apply(tx, [], await this.queuedRunsOf(tx, [{ id: deviceId, reason }], new Set(), effects), effects);
      return true;
    });
  }

  /**
   * Writes the batch's changes to its runs and the attempts that ended, then settles devices
   * and jobs. A device's checks are counted first: an attempt ended on a device this batch
   * quarantines is not retried there, and the device's other queued runs end with it.
   */
  private async apply(tx: Sql, updates: readonly DeviceRunUpdate[], ends: readonly AttemptEnd[], effects: Effects): Promise<void> {
    const quarantined = await this.recordHealth(tx, ends);
    const reasons = new Map(quarantined.map((q) => [q.id, q.reason]));
    const byId = new Map(updates.map((u) => [u.id, { ...u }]));
    const all = ends.map((end) => {
      const reason = reasons.get(end.run.deviceId);
      const retryable = end.error && ERROR_KINDS[end.error.kind].retryable;
      return reason && retryable ? { ...end, error: quarantinedBecause(reason) } : end;
    });
    all.push(...(await this.queuedRunsOf(tx, quarantined, new Set(ends.map((e) => e.run.id)), effects)));
    for (const { run, error, details } of all) {
      const end = { ...decideEnd(run, error), ...(details && { details }) };
      const update = byId.get(run.id) ?? { id: run.id, deviceId: run.deviceId, status: run.status, claimed: false };
      byId.set(run.id, { ...update, status: end.status, end });
      if (end.status === 'queued') effects.enqueue.push({ assignment: assignmentOf(run, end.attempt), priority: run.priority });
      if (end.result) {
        effects.ended.push({ runId: run.id, jobId: run.jobId, deviceId: run.deviceId, attempt: end.attempt, scenario: run.scenario, result: end.result, errorKind: end.errorKind, startedAt: run.startedAt });
      }
      effects.jobs.add(run.jobId);
    }
    const changed = [...byId.values()];
    await this.runs.updateRuns(tx, changed, this.config.AGENT_TIMEOUT_MS);
    await this.runs.settle(tx, changed.map((u) => u.deviceId), [...effects.started]);
  }

  /** Counts failed checks per device and clears the count of devices that ran a benchmark; returns the devices it quarantined. */
  private async recordHealth(tx: Sql, ends: readonly AttemptEnd[]): Promise<{ id: string; reason: string }[]> {
    const outcomes = ends.flatMap(({ run, error }) => {
      if (error?.kind === 'device_unfit') return [{ deviceId: run.deviceId, failed: 1, message: error.message }];
      // Only an attempt that ran its benchmark proves the device fit; nothing to clear at zero.
      const ran = !error || error.kind === 'benchmark';
      return ran && run.healthFailures > 0 ? [{ deviceId: run.deviceId, failed: 0, message: '' }] : [];
    });
    return this.runs.recordHealth(tx, outcomes, this.config.QUARANTINE_AFTER);
  }

  /** The queued runs of quarantined devices (beside those already ending), ended and taken off their queues. */
  private async queuedRunsOf(
    tx: Sql,
    devices: readonly { id: string; reason: string }[],
    skip: ReadonlySet<string>,
    effects: Effects,
  ): Promise<AttemptEnd[]> {
    if (devices.length === 0) return [];
    const reasons = new Map(devices.map((d) => [d.id, d.reason]));
    const queued = (await this.runs.lock(tx, { deviceIds: [...reasons.keys()] })).filter((r) => r.status === 'queued' && !skip.has(r.id));
    effects.remove.push(...queued.map(toAttempt));
    return queued.map((run) => ({ run, error: quarantinedBecause(reasons.get(run.deviceId) ?? '') }));
  }

  private async transact<T>(work: (tx: Sql, effects: Effects) => Promise<T>): Promise<T> {
    const effects: Effects = { enqueue: [], jobs: new Set(), started: new Set(), remove: [], stop: [], ended: [], stored: { batches: [], inserted: 0 } };
    const result = await this.prisma.transaction((tx) => work(tx, effects));
    this.metrics.measurementsStored(effects.stored.batches, effects.stored.inserted);
    this.metrics.runsEnded(effects.ended);
    for (const { runId, jobId, deviceId, attempt, result, errorKind } of effects.ended) {
      this.logger.log({ msg: 'run ended', jobId, runId, deviceId, attempt, result, errorKind });
    }
    // Whether a job is complete is asked after the commit: two transactions ending a job's last
    // runs side by side cannot see each other's uncommitted rows, but the later commit's check
    // sees both. The reaper asks again, in case this process dies right here.
    for (const jobId of await this.runs.finishCompletedJobs(this.prisma.sql, [...effects.jobs])) this.logger.log({ msg: 'job finished', jobId });
    // After the commit: the database already says what must happen, so a failure here is
    // logged and repaired by the reaper, never rolled back into an inconsistent state.
    await Promise.all([
      this.dispatch.enqueue(effects.enqueue),
      this.dispatch.remove(effects.remove),
      ...effects.stop.map((s) => this.dispatch.stop(s.runIds, s.reason)),
    ]).catch((error: unknown) => this.logger.error(`dispatch after commit failed: ${String(error)}`));
    return result;
  }
}

interface AttemptEnd {
  run: LockedRun;
  error: AttemptError | undefined;
  details?: RunDetails | undefined;
}

/** A run's update with its device, whose state follows from the runs it has in progress. */
interface DeviceRunUpdate extends RunUpdate {
  deviceId: string;
}

function quarantinedBecause(reason: string): AttemptError {
  return { kind: 'device_quarantined', message: `the device was quarantined: ${reason}` };
}

const CANCELLED: AttemptError = { kind: 'cancelled', message: 'the job was cancelled' };

/** Queued runs the dispatch repair reads and checks at a time. */
const REPAIR_PAGE = 5_000;

function refuse(run: LockedRun | undefined, agentId: string, report: RunReport): RunReportAck['stop'] | undefined {
  if (!run || run.agentId !== agentId) return 'unknown_run';
  if (run.attempt !== report.attempt) return 'stale';
  if (run.status === 'finished') return 'finished';
  if (report.type === 'claim') {
    // A claim of the run's attempt in progress is one repeated because its answer was lost:
    // granted again, as refusing it would stop the attempt that claimed it. The agent drops a
    // second delivery of an attempt it holds, and another process of the agent registers first,
    // which ends the attempts of the one before; so this cannot run an attempt twice.
    return run.jobStatus === 'cancelled' ? 'cancelled' : undefined;
  }
  // Anything but a claim needs a claimed attempt: a repeated delivery of a queued job may not report.
  return run.status === 'queued' ? 'stale' : undefined;
}

/** What an ended attempt does to its run: pass, retry, or finish with the error's result. */
export function decideEnd(run: LockedRun, error: AttemptError | undefined): RunTransition {
  const base = { id: run.id, attempt: run.attempt };
  if (!error) return { ...base, status: 'finished', result: 'passed', errorKind: null, errorMessage: null };
  if (run.jobStatus === 'cancelled') {
    return { ...base, status: 'finished', result: 'cancelled', errorKind: 'cancelled', errorMessage: CANCELLED.message };
  }
  const rule = ERROR_KINDS[error.kind];
  if (rule.retryable && run.attempt < run.maxAttempts) {
    return { ...base, attempt: run.attempt + 1, status: 'queued', result: null, errorKind: error.kind, errorMessage: error.message };
  }
  return { ...base, status: 'finished', result: rule.result, errorKind: error.kind, errorMessage: error.message };
}

export function assignmentOf(run: LockedRun, attempt: number): RunAssignment {
  return {
    runId: run.id,
    jobId: run.jobId,
    attempt,
    deviceId: run.deviceId,
    model: run.model,
    scenario: run.scenario,
    iterations: run.iterations,
    warmup: run.warmup,
    network: run.network,
    deadlineAt: run.deadlineAt.toISOString(),
  };
}

function toAttempt(run: LockedRun): QueuedAttempt {
  return { runId: run.id, attempt: run.attempt, deviceId: run.deviceId };
}
