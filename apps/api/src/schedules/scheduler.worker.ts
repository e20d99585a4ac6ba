import { BeforeApplicationShutdown, Inject, Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { UnrecoverableError, Worker, type Job } from 'bullmq';
import { Redis } from 'ioredis';
import { API_CONFIG, type ApiConfig } from '../config/config';
import { RedisService } from '../redis/redis';
import { FIRE_JOB, SCHEDULE_QUEUE, fireTimeOf, type FireData } from './scheduler.queue';
import { SchedulesService } from './schedules.service';

/** Each replica's worker on the schedules queue: a fired scheduler job becomes the night's farm job. */
@Injectable()
export class SchedulerWorker implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger(SchedulerWorker.name);
  private worker: Worker<FireData> | undefined;
  private connection: Redis | undefined;

  constructor(
    @Inject(API_CONFIG) private readonly config: ApiConfig,
    private readonly redis: RedisService,
    private readonly schedules: SchedulesService,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    await this.schedules.registerAll();
    this.connection = new Redis(this.config.REDIS_URL, { maxRetriesPerRequest: null });
    this.worker = new Worker<FireData>(SCHEDULE_QUEUE, (job) => this.process(job), { connection: this.connection, prefix: this.redis.prefix, concurrency: 2 });
    this.worker.on('failed', (job, error) => this.logger.warn(`firing ${job?.id ?? '?'} failed: ${error.message}`));
    // An unheard 'error' would end the process; BullMQ reconnects by itself.
    this.worker.on('error', (error) => this.logger.error(`schedule worker: ${error.message}`));
  }

  async beforeApplicationShutdown(): Promise<void> {
    await this.worker?.close();
    await this.connection?.quit().catch(() => this.connection?.disconnect());
  }

  private async process(job: Job<FireData>): Promise<void> {
    if (job.name !== FIRE_JOB || !job.id) throw new UnrecoverableError(`no handler for ${job.name}`);
    const exists = await this.schedules.require(job.data.scheduleId).then(
      () => true,
      () => false,
    );
    // A schedule deleted while its job waited: nothing to fire.
    if (!exists) return;
    await this.schedules.fire(job.data.scheduleId, fireTimeOf(job.id));
  }
}
