import { BeforeApplicationShutdown, Injectable } from '@nestjs/common';
import type { Schedule } from '@farm/db';
import { Queue } from 'bullmq';
import { RedisService } from '../redis/redis';

/** The BullMQ queue whose Job Schedulers fire the farm's schedules, one scheduler per schedule. */
export const SCHEDULE_QUEUE = 'schedules';
export const FIRE_JOB = 'fire';

export interface FireData {
  scheduleId: string;
}

/** The night a scheduler's job stands for: BullMQ names it `repeat:<scheduler>:<fire millis>`. */
export function fireTimeOf(jobId: string): Date {
  const millis = Number(jobId.slice(jobId.lastIndexOf(':') + 1));
  if (!Number.isSafeInteger(millis)) throw new Error(`job ${jobId} is not a scheduler's job`);
  return new Date(millis);
}

@Injectable()
export class SchedulerQueue implements BeforeApplicationShutdown {
  readonly queue: Queue<FireData>;

  constructor(redis: RedisService) {
    this.queue = new Queue<FireData>(SCHEDULE_QUEUE, { connection: redis.client, prefix: redis.prefix });
  }

  /** Upserting is idempotent, so every replica may register every schedule at start. */
  async register(schedule: Schedule): Promise<void> {
    if (!schedule.enabled) return this.unregister(schedule.id);
    await this.queue.upsertJobScheduler(
      schedule.id,
      { pattern: schedule.cron, tz: schedule.timeZone },
      { name: FIRE_JOB, data: { scheduleId: schedule.id }, opts: { attempts: 5, backoff: { type: 'exponential', delay: 5_000 }, removeOnComplete: 100, removeOnFail: 100 } },
    );
  }

  async unregister(scheduleId: string): Promise<void> {
    await this.queue.removeJobScheduler(scheduleId);
  }

  async beforeApplicationShutdown(): Promise<void> {
    await this.queue.close();
  }
}
