import { Inject, Injectable, Logger, OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import { AgentsService } from '../agents/agents.service';
import { API_CONFIG, type ApiConfig } from '../config/config';
import { RedisService } from '../redis/redis';
import { RunLifecycleService } from '../runs/run-lifecycle.service';

/**
 * Finds what nobody will report: agents that went silent (their runs are retried or end as
 * errored), jobs past their deadline (their runs end as timed out), and runs waiting for a
 * device that stayed offline (they end as errored). One API replica at a time does it, under a
 * Redis lease.
 *
 * Bound: a run whose agent dies is recovered within AGENT_TIMEOUT_MS + REAPER_INTERVAL_MS of
 * the agent's last heartbeat (12 s with the defaults), or at once when the agent restarts.
 */
@Injectable()
export class ReaperService implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger(ReaperService.name);
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private readonly owner = `${process.pid}-${Math.random().toString(36).slice(2)}`;

  constructor(
    @Inject(API_CONFIG) private readonly config: ApiConfig,
    private readonly redis: RedisService,
    private readonly agents: AgentsService,
    private readonly lifecycle: RunLifecycleService,
  ) {}

  onApplicationBootstrap(): void {
    this.timer = setInterval(() => {
      this.running ??= this.sweep().finally(() => (this.running = undefined));
    }, this.config.REAPER_INTERVAL_MS);
  }

  // First at shutdown, while the database and Redis are still connected.
  async onModuleDestroy(): Promise<void> {
    clearInterval(this.timer);
    await this.running;
  }

  async sweep(now = new Date()): Promise<void> {
    try {
      if (!(await this.lease())) return;
      await this.agents.reapSilentAgents(now);
      const expired = await this.lifecycle.expireOverdue(now);
      if (expired > 0) this.logger.warn(`${expired} run(s) passed their job's deadline`);
      const absent = await this.lifecycle.expireAbsent(now);
      if (absent > 0) this.logger.warn(`${absent} queued run(s) ended: their device did not come back`);
      await this.lifecycle.finishCompletedJobs();
    } catch (error) {
      this.logger.error(`sweep failed: ${String(error)}`);
    }
  }

  /** Holds the reaper lease for a few intervals; renewed by the holder at each sweep. */
  private async lease(): Promise<boolean> {
    const key = this.redis.key('reaper-lease');
    const ttl = this.config.REAPER_INTERVAL_MS * 5;
    const taken = await this.redis.client.set(key, this.owner, 'PX', ttl, 'NX');
    if (taken === 'OK') return true;
    if ((await this.redis.client.get(key)) !== this.owner) return false;
    await this.redis.client.pexpire(key, ttl);
    return true;
  }
}
