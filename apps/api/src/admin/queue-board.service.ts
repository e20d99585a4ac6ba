import { BeforeApplicationShutdown, Injectable } from '@nestjs/common';
import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { ExpressAdapter } from '@bull-board/express';
import { deviceQueueName } from '@farm/contracts';
import { Queue } from 'bullmq';
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { PrismaService } from '../prisma/prisma.service';
import { RedisService } from '../redis/redis';
import { SchedulerQueue } from '../schedules/scheduler.queue';

/** Where operators find Bull Board, outside /api and the dashboard's pages. */
export const QUEUE_BOARD_PATH = '/admin/queues';

/** The fleet is read again at most this often while operators look at the board. */
const REFRESH_MS = 2_000;

/**
 * Bull Board over the farm's BullMQ queues: the schedules queue and one dispatch queue per
 * device (named by the device, which comes and goes with the fleet). Dispatch queues are shown
 * read-only: a run's state lives in Postgres, and a job removed or retried by hand there would
 * leave its run waiting or run it twice.
 */
@Injectable()
export class QueueBoardService implements BeforeApplicationShutdown {
  private readonly server = new ExpressAdapter();
  private readonly board: ReturnType<typeof createBullBoard>;
  private readonly deviceQueues = new Map<string, Queue>();
  private readonly scheduleQueue: BullMQAdapter;
  private refreshed = 0;
  private refreshing: Promise<void> | undefined;

  constructor(
    private readonly prisma: PrismaService,
    private readonly redis: RedisService,
    schedules: SchedulerQueue,
  ) {
    this.server.setBasePath(QUEUE_BOARD_PATH);
    this.scheduleQueue = new BullMQAdapter(schedules.queue, { description: 'fires each schedule, one Job Scheduler per schedule' });
    this.board = createBullBoard({
      queues: [this.scheduleQueue],
      serverAdapter: this.server,
      options: { uiConfig: { boardTitle: 'Inference farm' } },
    });
  }

  /** The board's Express router, which first brings its list of device queues up to date. */
  handlers(): RequestHandler[] {
    const refresh = (_req: Request, _res: Response, next: NextFunction): void => {
      this.refresh().then(() => next(), next);
    };
    return [refresh, this.server.getRouter() as RequestHandler];
  }

  private refresh(): Promise<void> {
    if (Date.now() - this.refreshed < REFRESH_MS) return Promise.resolve();
    this.refreshing ??= this.readFleet().finally(() => {
      this.refreshed = Date.now();
      this.refreshing = undefined;
    });
    return this.refreshing;
  }

  private async readFleet(): Promise<void> {
    const devices = await this.prisma.device.findMany({ select: { id: true, serial: true, model: true, backend: true }, orderBy: [{ backend: 'asc' }, { serial: 'asc' }] });
    const adapters = devices.map((device) => {
      let queue = this.deviceQueues.get(device.id);
      if (!queue) {
        queue = new Queue(deviceQueueName(device.id), { connection: this.redis.client, prefix: this.redis.prefix });
        this.deviceQueues.set(device.id, queue);
      }
      return new BullMQAdapter(queue, { readOnlyMode: true, description: `runs of ${device.model} ${device.serial} (${device.backend}), one at a time` });
    });
    this.board.replaceQueues([this.scheduleQueue, ...adapters]);
  }

  async beforeApplicationShutdown(): Promise<void> {
    await Promise.all([...this.deviceQueues.values()].map((queue) => queue.close()));
  }
}
