import { randomUUID } from 'node:crypto';
import { DEFAULT_REDIS_URL } from '@farm/contracts';
import { FarmApi } from '@farm/client';
import { Redis } from 'ioredis';
import { startStack } from './stack';

describe('a stack that owns its queues', () => {
  const redisUrl = process.env['REDIS_URL'] ?? DEFAULT_REDIS_URL;

  it('leaves no Redis key under its prefix once stopped', async () => {
    const tag = `stack-${randomUUID().slice(0, 8)}`;
    const stack = await startStack({
      quiet: true,
      ownQueues: true,
      env: { QUEUE_PREFIX: tag, LOG_LEVEL: 'warn' },
      agents: [{ AGENT_NAME: tag, BACKENDS: 'simulated', SIM_DEVICES: '2', SIM_TIME_SCALE: '0', SIM_TAGS: tag, LOG_LEVEL: 'warn' }],
    });
    const redis = new Redis(redisUrl);
    try {
      const api = new FarmApi(stack.apiUrl, { token: stack.token });
      const job = await api.submit({ name: tag, models: ['mobilenet_v2'], scenarios: ['on_device', 'cloud'], devices: { tags: [tag] }, iterations: 1 });
      expect((await api.waitForJob(job.id, { timeoutMs: 60_000 })).status).toBe('finished');
      // The queues, their events and the API's own keys were there while the stack ran.
      expect((await redis.keys(`${tag}:*`)).length).toBeGreaterThan(0);
      await stack.stop();
      expect(await redis.keys(`${tag}:*`)).toEqual([]);
    } finally {
      await stack.stop();
      redis.disconnect();
    }
  });

  it('is refused without a queue prefix of its own, before anything starts', async () => {
    await expect(startStack({ ownQueues: true })).rejects.toThrow('a stack that owns its queues needs a QUEUE_PREFIX of its own');
  });
});
