import { randomUUID } from 'node:crypto';
import { BeforeApplicationShutdown, Injectable, Logger } from '@nestjs/common';
import {
  STOP_RUNS_CHANNEL,
  attemptJobId,
  bullPriority,
  deviceQueueName,
  type RunAssignment,
  type StopRunsEvent,
} from '@farm/contracts';
import { Job, Queue } from 'bullmq';
import { RedisService } from '../redis/redis';

export interface Dispatchable {
  assignment: RunAssignment;
  priority: number;
}

export interface QueuedAttempt {
  runId: string;
  attempt: number;
  deviceId: string;
}

/**
 * The one place that decides how an attempt becomes a BullMQ job: its queue (the device's),
 * its id (run and attempt, so a repeated add is a no-op), its priority and its retention.
 */
@Injectable()
export class DispatchService implements BeforeApplicationShutdown {
  private readonly logger = new Logger(DispatchService.name);
  private readonly queues = new Map<string, Queue<RunAssignment>>();

  constructor(private readonly redis: RedisService) {}

  /**
   * Adds attempts to their devices' queues, all in one Redis pipeline: each queue's addBulk
   * builds a pipeline of its own, and building one (ioredis copies BullMQ's scripts onto each)
   * cost more than the adds it carried when a job spreads over many devices. Each add is a
   * script of its own, as addBulk's are; when one fails the caller takes the job back whole, and
   * removing an attempt that was never added is a no-op.
   */
  async enqueue(items: readonly Dispatchable[]): Promise<void> {
    if (items.length === 0) return;
    const adds = items.map((item) => ({ ...item, queue: this.queue(item.assignment.deviceId) }));
    // Every queue shares the one connection; waiting for each also waits for its scripts.
    const [client] = await Promise.all([...new Set(adds.map((a) => a.queue))].map((queue) => queue.getBackend().client));
    if (!client) return;
    const pipeline = client.pipeline();
    const added = adds.map(({ assignment, priority, queue }) => {
      const jobId = attemptJobId(assignment.runId, assignment.attempt);
      const job = new Job<RunAssignment>(queue, 'run', assignment, { jobId, priority: bullPriority(priority), removeOnComplete: true, removeOnFail: true });
      return queue.getBackend().addJobToTransaction(pipeline, job.asJSON(), jobId);
    });
    await Promise.all([pipeline.exec(), ...added]);
  }

  /** Removes attempts that have not started; an active one is stopped through `stop` instead. */
  async remove(attempts: readonly QueuedAttempt[]): Promise<void> {
    await Promise.all(
      attempts.map(async ({ runId, attempt, deviceId }) => {
        try {
          await this.queue(deviceId).remove(attemptJobId(runId, attempt));
        } catch (error) {
          // A locked (active) job cannot be removed; the agent's claim will be refused anyway.
          this.logger.debug(`could not remove ${runId}.${attempt}: ${String(error)}`);
        }
      }),
    );
  }

  /** The attempts of the list that are in none of their device's queue's states (waiting, active, delayed, ...). */
  async missing(attempts: readonly QueuedAttempt[]): Promise<QueuedAttempt[]> {
    if (attempts.length === 0) return [];
    const pipeline = this.redis.client.pipeline();
    for (const { runId, attempt, deviceId } of attempts) pipeline.exists(this.queue(deviceId).toKey(attemptJobId(runId, attempt)));
    const results = (await pipeline.exec()) ?? [];
    return attempts.filter((_, i) => {
      const [error, found] = results[i] ?? [new Error('no answer'), 0];
      if (error) throw error;
      return found === 0;
    });
  }

  /**
   * A mark kept in Redis beside the queues: the same value for as long as Redis keeps its data,
   * a new one once it has lost them (restarted without persistence, flushed), when every queued
   * attempt must be checked again.
   */
  async queuesEpoch(): Promise<string> {
    const key = this.redis.key('queues-epoch');
    const fresh = randomUUID();
    if ((await this.redis.client.set(key, fresh, 'NX')) === 'OK') return fresh;
    return (await this.redis.client.get(key)) ?? fresh;
  }

  /** Tells agents at once to stop runs at their next phase boundary; heartbeats repeat it. */
  async stop(runIds: readonly string[], reason: StopRunsEvent['reason']): Promise<void> {
    if (runIds.length === 0) return;
    const event: StopRunsEvent = { runIds: [...runIds], reason };
    await this.redis.client.publish(this.redis.key(STOP_RUNS_CHANNEL), JSON.stringify(event));
  }

  async beforeApplicationShutdown(): Promise<void> {
    await Promise.all([...this.queues.values()].map((queue) => queue.close()));
  }

  private queue(deviceId: string): Queue<RunAssignment> {
    let queue = this.queues.get(deviceId);
    if (!queue) {
      queue = new Queue<RunAssignment>(deviceQueueName(deviceId), {
        connection: this.redis.client,
        prefix: this.redis.prefix,
      });
      this.queues.set(deviceId, queue);
    }
    return queue;
  }
}
