import { getNextMillis } from 'bullmq';

/**
 * The next `count` fire times of a cron expression in a time zone after `from`, computed by
 * BullMQ's own repeat strategy (cron-parser), so they are the times its Job Scheduler fires at.
 * Throws when the expression does not parse.
 */
export function nextFireTimes(cron: string, timeZone: string, from: Date, count: number): Date[] {
  const times: Date[] = [];
  let millis = from.getTime();
  while (times.length < count) {
    const next = getNextMillis(millis, { pattern: cron, tz: timeZone });
    if (next === undefined) break;
    times.push(new Date(next));
    millis = next;
  }
  return times;
}

/** Null when the expression is valid, else why not. */
export function cronProblem(cron: string, timeZone: string): string | null {
  try {
    nextFireTimes(cron, timeZone, new Date(0), 1);
    return null;
  } catch (error) {
    return `is not a cron expression (minute hour day month weekday): ${error instanceof Error ? error.message : String(error)}`;
  }
}
