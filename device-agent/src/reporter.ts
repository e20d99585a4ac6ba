import type { RunReport, RunReportAck } from '@farm/contracts';
import { withRetry, type ApiClient } from './api-client';
import type { Logger } from './logger';

interface Pending {
  report: RunReport;
  resolve: (ack: RunReportAck) => void;
  reject: (error: unknown) => void;
}

/**
 * Sends run reports of all the agent's devices in batches: one request carries whatever
 * queued up while the previous one was in flight. Reports are idempotent on the API side
 * (attempt checks, unique measurement keys), so a batch whose answer was lost is sent again.
 */
export class Reporter {
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
      this.schedule();
    });
  }

  private schedule(): void {
    if (this.flushing || this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.flush();
    }, this.flushMs);
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
    try {
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
    } finally {
      this.flushing = false;
    }
  }
}
