import type { RunReport, RunReportAck } from '@farm/contracts';
import { withRetry, type ApiClient } from './api-client';
import type { Logger } from './logger';

interface Pending {
  report: RunReport;
  resolve: (ack: RunReportAck) => void;
  reject: (error: unknown) => void;
}

/**
 * Sends run reports of all the agent's devices in batches. Reports go through a few lanes, a
 * device always through the same one, so each device's reports arrive in the order it made
 * them (a run's rows before its finish, a finish before the next claim) while other devices'
 * batches are in flight beside them. A lane sends whatever queued up while its previous
 * request was out. Reports are idempotent on the API side (attempt checks, unique measurement
 * keys), so a batch whose answer was lost is simply sent again.
 */
export class Reporter {
  private readonly lanes: Lane[];

  constructor(api: ApiClient, agentId: () => string, flushMs: number, log: Logger, lanes = 4) {
    this.lanes = Array.from({ length: lanes }, () => new Lane(api, agentId, flushMs, log));
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

  /** Resolves once every report handed in so far has been answered. */
  async drain(): Promise<void> {
    await Promise.all(this.lanes.map((lane) => lane.drain()));
  }
}

/** Reports a lane holds before the devices on it wait for the API to catch up. */
const MAX_PENDING = 2_000;

class Lane {
  private queue: Pending[] = [];
  private flushing = false;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly api: ApiClient,
    private readonly agentId: () => string,
    private readonly flushMs: number,
    private readonly log: Logger,
    /** Rows per request at most (a report counts one, a measurement batch its rows). */
    private readonly maxWeight = 5_000,
  ) {}

  send(report: RunReport): Promise<RunReportAck> {
    return new Promise((resolve, reject) => {
      this.queue.push({ report, resolve, reject });
      // A flush in progress takes it in its next round; otherwise one starts shortly.
      if (!this.flushing && !this.timer) {
        this.timer = setTimeout(() => {
          this.timer = undefined;
          void this.flush();
        }, this.flushMs);
      }
    });
  }

  async ready(): Promise<void> {
    while (this.queue.length >= MAX_PENDING) await new Promise((resolve) => setTimeout(resolve, this.flushMs + 5));
  }

  async drain(): Promise<void> {
    while (this.queue.length > 0 || this.flushing || this.timer) {
      await new Promise((resolve) => setTimeout(resolve, this.flushMs + 5));
    }
  }

  private batchSize(): number {
    let weight = 0;
    let size = 0;
    for (const { report } of this.queue) {
      weight += report.type === 'measurements' ? report.rows.length : 1;
      if (size > 0 && weight > this.maxWeight) break;
      size++;
    }
    return size;
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
    while (this.queue.length > 0) {
      const batch = this.queue.splice(0, this.batchSize());
      try {
        const acks = await withRetry(() => this.api.reports(this.agentId(), batch.map((p) => p.report)), {
          onRetry: (error, delay) => this.log.warn(`report upload failed (${String(error)}); retrying in ${delay} ms`),
        });
        batch.forEach((pending, i) => {
          const ack = acks[i];
          if (ack) pending.resolve(ack);
          else pending.reject(new Error('the API answered fewer acks than reports'));
        });
      } catch (error) {
        for (const pending of batch) pending.reject(error);
      }
    }
  }
}

function laneOf(deviceId: string, lanes: number): number {
  let hash = 0;
  for (let i = 0; i < deviceId.length; i++) hash = (hash * 31 + deviceId.charCodeAt(i)) >>> 0;
  return hash % lanes;
}
