import type { ErrorKind, Measurement, RunAssignment, RunDetails, RunReport, RunReportAck, RunStatus } from '@farm/contracts';
import { RunError, type DeviceBackend, type RunContext } from './backends/backend';
import type { Logger } from './logger';
import type { Reporter } from './reporter';

/** Why a run was told to stop; becomes the attempt's error kind. */
export type StopReason = 'cancelled' | 'deadline' | 'timeout' | 'shutdown' | 'stale';

export class RunStopped extends Error {
  constructor(readonly reason: StopReason) {
    super(`run stopped: ${reason}`);
  }
}

const STOP_KINDS: Record<StopReason, ErrorKind> = {
  cancelled: 'cancelled',
  deadline: 'deadline',
  timeout: 'timeout',
  shutdown: 'agent_shutdown',
  stale: 'cancelled',
};

/** A batch of rows goes up when it is this large, or this old: results stream while a run goes. */
const ROWS_PER_BATCH = 500;
const BATCH_MAX_AGE_MS = 1_000;

/**
 * Runs one attempt on one device: claims it, lets the backend run it, streams its rows in
 * batches, and reports how it ended. A stop request (cancel, deadline, timeout, shutdown)
 * takes effect at the backend's next phase boundary.
 */
export class RunExecution {
  private readonly controller = new AbortController();
  private buffer: Measurement[] = [];
  private batch = 0;
  private sent = 0;
  private lastFlush = Date.now();
  private details: RunDetails | undefined;
  private attemptLog: Logger | undefined;

  constructor(
    readonly assignment: RunAssignment,
    private readonly serial: string,
    private readonly backend: DeviceBackend,
    private readonly reporter: Reporter,
    private readonly agentLog: Logger,
    private readonly timeoutMs: number,
  ) {}

  /**
   * Every line about the attempt carries its job, run, device and attempt. Made at the first
   * line that is written: most attempts write none at the agent's usual level.
   */
  private get log(): Logger {
    const { jobId, runId, deviceId, attempt } = this.assignment;
    this.attemptLog ??= this.agentLog.child({ jobId, runId, deviceId, serial: this.serial, attempt });
    return this.attemptLog;
  }

  stop(reason: StopReason): void {
    if (!this.controller.signal.aborted) this.controller.abort(new RunStopped(reason));
  }

  /** Runs the attempt; resolves when the device is free, with the upload of its finish still under way. */
  async execute(): Promise<{ reported: Promise<void> }> {
    const { runId, attempt } = this.assignment;
    // The run starts at once and its claim travels ahead of its other reports on the device's
    // lane. When the API refuses the claim (a stale attempt, a cancelled run) the run stops at
    // its next phase boundary, and every later report of the attempt is refused as well: an
    // attempt the API did not grant can never store a row or move its run.
    void this.send({ type: 'claim', runId, attempt }).then(
      (ack) => {
        if (!ack.ok) this.log.info({ reason: ack.stop }, 'claim refused; attempt stopped');
        this.onAck(ack);
      },
      () => this.stop('stale'),
    );
    const deadline = Math.min(this.timeoutMs, Date.parse(this.assignment.deadlineAt) - Date.now());
    const timer = setTimeout(() => this.stop(deadline < this.timeoutMs ? 'deadline' : 'timeout'), Math.max(0, deadline));
    let error: { kind: ErrorKind; message: string } | undefined;
    try {
      await this.backend.run(this.serial, this.context());
    } catch (thrown) {
      error = describe(this.controller.signal.reason ?? thrown, thrown);
    } finally {
      clearTimeout(timer);
    }
    if (this.buffer.length > 0) this.status('uploading');
    this.flushRows();
    // The device's lane delivers these before its next claim, so the device can go on now;
    // if the agent dies first, the API recovers the attempt as it does any lost one.
    const reported = this.send({ type: 'finish', runId, attempt, rows: this.sent, ...(error && { error }), ...(this.details && { details: this.details }) }).then(
      () => {
        if (this.agentLog.isLevelEnabled('info')) this.log.info({ rows: this.sent, error: error?.kind }, 'attempt finished');
      },
      (failure: unknown) => this.log.error(`finish not delivered: ${String(failure)}`),
    );
    return { reported };
  }

  private context(): RunContext {
    const signal = this.controller.signal;
    return {
      assignment: this.assignment,
      signal,
      checkpoint: () => {
        if (signal.aborted) throw signal.reason as Error;
      },
      status: (status) => this.status(status),
      describe: (details) => {
        this.details = { ...this.details, ...details };
      },
      record: (measurement) => {
        this.buffer.push(measurement);
        if (this.buffer.length >= ROWS_PER_BATCH || Date.now() - this.lastFlush >= BATCH_MAX_AGE_MS) this.flushRows();
      },
    };
  }

  private status(status: Exclude<RunStatus, 'queued' | 'finished'>): void {
    const { runId, attempt } = this.assignment;
    void this.send({ type: 'status', runId, attempt, status }).then((ack) => this.onAck(ack), () => undefined);
  }

  private flushRows(): void {
    this.lastFlush = Date.now();
    if (this.buffer.length === 0) return;
    const rows = this.buffer;
    this.buffer = [];
    this.sent += rows.length;
    const { runId, attempt } = this.assignment;
    void this.send({ type: 'measurements', runId, attempt, batch: this.batch++, rows }).then((ack) => this.onAck(ack), () => undefined);
  }

  private send(report: RunReport): Promise<RunReportAck> {
    return this.reporter.send(this.assignment.deviceId, report);
  }

  private onAck(ack: RunReportAck): void {
    if (ack.ok) return;
    this.stop(ack.stop === 'cancelled' ? 'cancelled' : 'stale');
  }
}

function describe(reason: unknown, thrown: unknown): { kind: ErrorKind; message: string } {
  if (reason instanceof RunStopped) return { kind: STOP_KINDS[reason.reason], message: reason.message };
  if (reason instanceof RunError) return { kind: reason.kind, message: reason.message };
  const error = thrown instanceof Error ? thrown : new Error(String(thrown));
  return { kind: 'infrastructure', message: error.message };
}
