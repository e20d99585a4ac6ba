import type { Backend, DeviceHealth, DeviceRegistration, ErrorKind, Measurement, RunAssignment, RunDetails, RunStatus } from '@farm/contracts';

/** An error that says how the attempt ended (see ERROR_KINDS); anything else is `infrastructure`. */
export class RunError extends Error {
  constructor(
    readonly kind: ErrorKind,
    message: string,
  ) {
    super(message);
  }
}

/** What a backend may do while it runs one attempt. */
export interface RunContext {
  readonly assignment: RunAssignment;
  /** Aborted when the run must stop: cancelled, timed out, past its deadline, or the agent stops. */
  readonly signal: AbortSignal;
  /** Throws the stop reason when the run must stop; backends call it at every phase boundary. */
  checkpoint(): void;
  status(status: Exclude<RunStatus, 'queued' | 'finished'>): void;
  record(measurement: Measurement): void;
  /** Adds facts about the attempt (runtime, versions, classes) sent with its result. */
  describe(details: RunDetails): void;
}

/**
 * A kind of device. The agent finds devices through it, keeps their health fresh, and runs
 * attempts on them; everything else (queues, reports, retries) is the agent's.
 */
export interface DeviceBackend {
  readonly name: Backend;
  discover(): Promise<DeviceRegistration[]>;
  health(serial: string): Promise<DeviceHealth>;
  run(serial: string, context: RunContext): Promise<void>;
  /** Called with a serial when a device disappears (unplugged, crashed); set by the agent. */
  onDeviceLost?: (serial: string) => void;
  /** Called when devices appear (plugged in, authorised); the agent discovers and registers again. */
  onDevicesChanged?: () => void;
  close(): Promise<void>;
}

/** Waits, or rejects with the signal's reason as soon as it is aborted. */
export function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason as Error);
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal.reason as Error);
    };
    signal.addEventListener('abort', onAbort, { once: true });
  });
}
