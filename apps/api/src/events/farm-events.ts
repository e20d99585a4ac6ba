import type { DeviceView, FarmEvents, JobView } from '@farm/contracts';

/** What the farm looks like at one read: its jobs in flight (and just ended) and its devices. */
export interface FarmSnapshot {
  jobs: readonly JobView[];
  devices: readonly DeviceView[];
}

export type FarmEvent = { [K in keyof FarmEvents]: { type: K; data: FarmEvents[K] } }[keyof FarmEvents];

const jobKey = (job: JobView): string => JSON.stringify([job.status, job.progress, job.startedAt, job.finishedAt]);
// A heartbeat moves lastSeenAt every few seconds; that alone is no news.
const deviceKey = ({ lastSeenAt: _seen, ...device }: DeviceView): string => JSON.stringify(device);

function changed<T extends { id: string }>(previous: readonly T[] | undefined, next: readonly T[], key: (item: T) => string): T[] {
  const before = new Map((previous ?? []).map((item) => [item.id, key(item)]));
  return next.filter((item) => before.get(item.id) !== key(item));
}

/** What a client that last saw `previous` (nothing, on connecting) must be told about `next`. */
export function farmEvents(previous: FarmSnapshot | undefined, next: FarmSnapshot): FarmEvent[] {
  const events: FarmEvent[] = [];
  const jobs = changed(previous?.jobs, next.jobs, jobKey);
  if (jobs.length > 0) events.push({ type: 'jobs', data: { jobs } });
  const devices = changed(previous?.devices, next.devices, deviceKey);
  if (devices.length > 0) events.push({ type: 'devices', data: { devices } });
  return events;
}
