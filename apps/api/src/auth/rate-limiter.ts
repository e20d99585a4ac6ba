import { Inject, Injectable, Logger } from '@nestjs/common';
import type { Redis } from 'ioredis';
import { API_CONFIG, type ApiConfig } from '../config/config';
import { RedisService } from '../redis/redis';

// One fixed window per key: the first request of a window starts its expiry.
const COUNT = `
local n = redis.call('INCR', KEYS[1])
if n == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
return { n, redis.call('PTTL', KEYS[1]) }`;

/** How long the limiter waits for Redis before letting a request through uncounted. */
const REDIS_WAIT_MS = 250;

export type RateDecision = { allowed: true } | { allowed: false; retryAfterSeconds: number };

/**
 * Requests per key (a token, or the address of a request without a valid one) in a fixed
 * window, counted in Redis so that every API replica shares the count. Without Redis the API
 * keeps serving, uncounted, rather than refuse its agents while Redis restarts.
 */
@Injectable()
export class RateLimiter {
  private readonly logger = new Logger(RateLimiter.name);
  private lastWarning = 0;

  /** The count as a script Redis keeps (EVALSHA): the text is not sent and hashed at every request. */
  private readonly count: (key: string, windowMs: number) => Promise<[number, number]>;

  constructor(
    @Inject(API_CONFIG) private readonly config: ApiConfig,
    private readonly redis: RedisService,
  ) {
    redis.client.defineCommand('farmRateCount', { numberOfKeys: 1, lua: COUNT });
    const client = redis.client as Redis & { farmRateCount(key: string, windowMs: number): Promise<[number, number]> };
    this.count = (key, windowMs) => client.farmRateCount(key, windowMs);
  }

  async take(key: string): Promise<RateDecision> {
    const window = this.config.RATE_LIMIT_WINDOW_MS;
    let timer: NodeJS.Timeout | undefined;
    try {
      const counted = this.count(this.redis.key('rate', key), window);
      // Should Redis answer after the wait, its late error has no one left to tell.
      counted.catch(() => undefined);
      const late = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`no answer in ${REDIS_WAIT_MS} ms`)), REDIS_WAIT_MS)));
      const [count, ttl] = await Promise.race([counted, late]);
      if (count <= this.config.RATE_LIMIT_REQUESTS) return { allowed: true };
      return { allowed: false, retryAfterSeconds: Math.max(1, Math.ceil((ttl > 0 ? ttl : window) / 1000)) };
    } catch (error) {
      if (Date.now() - this.lastWarning > 10_000) {
        this.lastWarning = Date.now();
        this.logger.warn(`rate limits not counted: Redis: ${error instanceof Error ? error.message : String(error)}`);
      }
      return { allowed: true };
    } finally {
      clearTimeout(timer);
    }
  }
}
