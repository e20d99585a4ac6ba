import { deviceQueueName } from '@farm/contracts';
import type { FarmApi } from '@farm/client';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';

/**
 * Waits until the queue of every available device with the tag has its agent's worker
 * listening: an agent registers its devices first and opens their workers after, and a bench
 * measures the farm's dispatch, not its start-up. Resolves with those devices' ids.
 */
export async function waitForWorkers(api: FarmApi, redisUrl: string, prefix: string, tag: string, timeoutMs = 60_000): Promise<string[]> {
  const devices = (await api.request<{ id: string }[]>('GET', `/api/devices?tag=${encodeURIComponent(tag)}&state=available`)).body;
  const connection = new Redis(redisUrl, { maxRetriesPerRequest: null });
  const queues = devices.map((d) => new Queue(deviceQueueName(d.id), { connection, prefix }));
  try {
    for (const started = Date.now(); ; ) {
      const counts = await Promise.all(queues.map((q) => q.getWorkersCount()));
      if (counts.every((n) => n > 0)) return devices.map((d) => d.id);
      if (Date.now() - started > timeoutMs) throw new Error(`the agents did not open their device queues within ${timeoutMs / 1000} s`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  } finally {
    await Promise.all(queues.map((q) => q.close()));
    await connection.quit();
  }
}
