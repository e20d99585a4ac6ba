/**
 * Dispatch layout on Redis. Each device has its own BullMQ queue, served by exactly one
 * worker of concurrency 1 in the agent that holds the device: one run at a time per device,
 * in priority order. A BullMQ job is one attempt of a run.
 */
export const DEVICE_QUEUE_PREFIX = 'device';

export function deviceQueueName(deviceId: string): string {
  return `${DEVICE_QUEUE_PREFIX}.${deviceId}`;
}

/** BullMQ job ids may not contain ':'. */
export function attemptJobId(runId: string, attempt: number): string {
  return `${runId}.${attempt}`;
}

/** Our priority runs 1 (lowest) to 10 (highest); BullMQ's 1 is its highest. */
export function bullPriority(priority: number): number {
  return 11 - priority;
}

/** Pub/sub channel on which the API tells agents to stop runs (payload: StopRunsEvent). */
export const STOP_RUNS_CHANNEL = 'stop-runs';

export interface StopRunsEvent {
  runIds: string[];
  reason: 'cancelled' | 'deadline';
}
