import type { RunReport, RunReportAck } from '@farm/contracts';
import { withRetry, type ApiClient } from './api-client';
import type { Logger } from './logger';
import type { Outbox } from './outbox';

/**
 * A report waiting in its lane, as the JSON it goes up as: encoded when handed in, so what waits
 * for the API is one string, not the report's objects (a measurement batch is one a row), and the
 * agent's young generation no longer carries them from one collection to the next.
 */
interface Pending {
  encoded: string;
  /** Rows it weighs in a request: a measurement batch its rows, any other report one. */
  weight: number;
  /** `<run>.<attempt>` of a status report, which a later status or the finish replaces. */
  status: string | undefined;
  resolve: (ack: RunReportAck) => void;
  reject: (error: Error) => void;
}

/** Lanes an agent's reports go up in: requests in flight side by side, at most. */
export const REPORT_LANES = 4;

/**
 * Sends run reports of all the agent's devices in batches. Reports go through a few lanes, a
 * device always through the same one, so each device's reports arrive in the order it made
 * them (a run's rows before its finish, a finish before the next claim) while other devices'
 * batches are in flight beside them. A lane sends whatever queued up while its previous
 * request was out. Each request's reports are in the outbox, on disk, before it goes, so a
 * process that dies with reports unanswered leaves them for the next one to send. Reports are
 * idempotent on the API side (attempt checks, batch keys, unique measurement keys), so a batch
 * whose answer was lost is simply sent again.
 */
export class Reporter {
  private readonly lanes: Lane[];
  private readonly stopped = new AbortController();

  constructor(api: ApiClient, agentId: () => string, outbox: Outbox, flushMs: number, log: Logger, lanes = REPORT_LANES) {
    this.lanes = Array.from({ length: lanes }, () => new Lane(api, agentId, outbox, flushMs, log, this.stopped.signal));
  }

  send(deviceId: string, report: RunReport): Promise<RunReportAck> {
    return this.lanes[laneOf(deviceId, this.lanes.length)]?.send(report) ?? Promise.reject(new Error('no lane'));
  }

  /**
   * Resolves when the device's lane has room again: runs start without waiting for their
   * reports, so this is what keeps a fast device from running ahead of the API.
   */
  async ready(deviceId: string): Promise<void> {
    await this.lanes[laneOf(deviceId, this.lanes.length)]?.ready();
  }

  /** A stopping agent runs nothing more: its devices no longer wait for room, so their workers can close. */
  release(): void {
    for (const lane of this.lanes) lane.released = true;
  }

  /** Resolves once every report handed in so far has been answered. */
  async drain(): Promise<void> {
    await Promise.all(this.lanes.map((lane) => lane.drain()));
  }

  /**
   * Gives up on the API (a stopping agent whose grace period is over): uploads stop, and every
   * report not answered is left in the outbox, on disk, for the next process of the agent to send
   * first. Their senders hear an error. Resolves once nothing is in flight.
   */
  async abandon(): Promise<void> {
    this.stopped.abort();
    await Promise.all(this.lanes.map((lane) => lane.abandon()));
  }
}

/** Reports a lane holds before the devices on it wait for the API to catch up. */
const MAX_PENDING = 2_000;

class Lane {
  private queue: Pending[] = [];
  /**
   * The status report of each attempt still waiting in the queue, by `<run>.<attempt>`: a later
   * status, or the attempt's finish, supersedes it where it waits. Only the latest state counts
   * to the API, so a run that moves through its statuses faster than a request goes up costs
   * one report, not one a status.
   */
  private readonly statuses = new Map<string, Pending>();
  private flushing = false;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly api: ApiClient,
    private readonly agentId: () => string,
    private readonly outbox: Outbox,
    private readonly flushMs: number,
    private readonly log: Logger,
    /** Aborted when the agent gives up on the API: nothing more is uploaded. */
    private readonly stopped: AbortSignal,
    /** Rows per request at most (a report counts one, a measurement batch its rows). */
    private readonly maxWeight = 5_000,
  ) {}

  send(report: RunReport): Promise<RunReportAck> {
    return new Promise((resolve, reject) => {
      const key = `${report.runId}.${report.attempt}`;
      const encoded = JSON.stringify(report);
      const waiting = this.statuses.get(key);
      if (waiting && (report.type === 'status' || report.type === 'finish')) {
        this.statuses.delete(key);
        const { resolve: earlier, reject: earlierFailed } = waiting;
        waiting.resolve = (ack) => (earlier(ack), resolve(ack));
        waiting.reject = (error) => (earlierFailed(error), reject(error));
        // A status takes the place of the one before it; a finish takes the place of both and goes
        // last, after the attempt's rows.
        waiting.encoded = encoded;
        if (report.type === 'status') {
          this.statuses.set(key, waiting);
          return;
        }
        waiting.status = undefined;
        this.queue.splice(this.queue.indexOf(waiting), 1);
        this.queue.push(waiting);
      } else {
        const pending: Pending = { encoded, weight: weightOf(report), status: report.type === 'status' ? key : undefined, resolve, reject };
        if (pending.status) this.statuses.set(key, pending);
        this.queue.push(pending);
      }
      // A flush in progress takes it in its next round; otherwise one starts shortly.
      if (!this.flushing && !this.timer) {
        this.timer = setTimeout(() => {
          this.timer = undefined;
          void this.flush();
        }, this.flushMs);
      }
    });
  }

  /** Set when the agent stops: `ready` no longer waits. */
  released = false;

  async ready(): Promise<void> {
    while (this.queue.length >= MAX_PENDING && !this.released) await new Promise((resolve) => setTimeout(resolve, this.flushMs + 5));
  }

  async drain(): Promise<void> {
    while (this.queue.length > 0 || this.flushing || this.timer) {
      await new Promise((resolve) => setTimeout(resolve, this.flushMs + 5));
    }
  }

  async abandon(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    const left = this.queue.splice(0);
    this.statuses.clear();
    // After the batch in flight, whose lines are already written: the outbox keeps their order.
    if (left.length > 0) await this.outbox.append(left.map((p) => p.encoded));
    const error = new Error('the agent stopped before the API answered: the report waits in the outbox for its next start');
    for (const pending of left) pending.reject(error);
    while (this.flushing) await new Promise((resolve) => setTimeout(resolve, 5));
  }

  private async flush(): Promise<void> {
    this.flushing = true;
    // `flushing` drops in the same turn as the loop sees an empty queue, so no report can
    // slip in between and wait for a flush that never comes.
    try {
      await this.sendAll();
    } finally {
      this.flushing = false;
    }
  }

  private async sendAll(): Promise<void> {
    while (this.queue.length > 0 && !this.stopped.aborted) {
      const batch = this.queue.splice(0, batchLength(this.queue, (p) => p.weight, this.maxWeight));
      for (const { status } of batch) if (status) this.statuses.delete(status);
      const encoded = batch.map((p) => p.encoded);
      const seqs = await this.outbox.append(encoded).catch((error: unknown) => {
        // A full or broken disk must not stop the results: they go up, without a copy.
        this.log.error(`outbox write failed (${String(error)}); uploading without it`);
        return [];
      });
      try {
        const acks = await uploadReports(this.api, this.agentId(), encoded, this.log, this.stopped);
        batch.forEach((pending, i) => {
          const ack = acks[i];
          if (ack) pending.resolve(ack);
          else pending.reject(new Error('the API answered fewer acks than reports'));
        });
      } catch (error) {
        for (const pending of batch) pending.reject(error instanceof Error ? error : new Error(String(error)));
        // Given up unanswered: the outbox keeps them for the next process.
        if (this.stopped.aborted) return;
      }
      // Answered, or refused for good: either way nothing is left to send again.
      await this.outbox.ack(seqs).catch((error: unknown) => this.log.warn(`outbox ack failed: ${String(error)}`));
    }
  }
}

/** Uploads reports, retrying until the API answers or refuses them for good (a 4xx). */
export function uploadReports(api: ApiClient, agentId: string, encoded: readonly string[], log: Logger, signal?: AbortSignal): Promise<RunReportAck[]> {
  return withRetry(() => api.reports(agentId, encoded), {
    signal,
    onRetry: (error, delay) => log.warn(`report upload failed (${String(error)}); retrying in ${delay} ms`),
  });
}

/**
 * Sends what a previous process of this agent left in its outbox, in the order it was written,
 * before this one registers (a registration under a new session recovers the previous one's
 * runs, after which their reports would be refused as stale).
 */
export async function replayOutbox(api: ApiClient, outbox: Outbox, log: Logger, maxWeight = 5_000): Promise<{ sent: number; refused: number }> {
  const { agentId, reports } = await outbox.recover();
  if (!agentId || reports.length === 0) {
    await outbox.ack(reports.map((r) => r.seq));
    return { sent: 0, refused: 0 };
  }
  let refused = 0;
  for (let start = 0; start < reports.length; ) {
    const end = start + batchLength(reports.slice(start), (r) => weightOf(r.report), maxWeight);
    const chunk = reports.slice(start, end);
    try {
      const acks = await uploadReports(api, agentId, chunk.map((c) => JSON.stringify(c.report)), log);
      refused += acks.filter((a) => !a.ok).length;
    } catch (error) {
      log.error(`the API refused ${chunk.length} replayed report(s): ${String(error)}`);
      refused += chunk.length;
    }
    await outbox.ack(chunk.map((c) => c.seq));
    start = end;
  }
  log.info({ reports: reports.length, refused }, 'outbox replayed');
  return { sent: reports.length, refused };
}

/** How many of the reports, from the first, go in one request: rows up to `maxWeight`, and at most what the API takes. */
function batchLength<T>(reports: readonly T[], weight: (report: T) => number, maxWeight: number): number {
  let total = 0;
  let size = 0;
  for (const report of reports) {
    total += weight(report);
    if (size > 0 && (total > maxWeight || size >= MAX_REPORTS_PER_REQUEST)) break;
    size++;
  }
  return size;
}

/** A measurement batch weighs its rows in a request; any other report, one. */
function weightOf(report: RunReport): number {
  return report.type === 'measurements' ? report.rows.length : 1;
}

/** The API's limit on reports per request. */
const MAX_REPORTS_PER_REQUEST = 2_000;

function laneOf(deviceId: string, lanes: number): number {
  let hash = 0;
  for (let i = 0; i < deviceId.length; i++) hash = (hash * 31 + deviceId.charCodeAt(i)) >>> 0;
  return hash % lanes;
}
