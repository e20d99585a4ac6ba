import { Inject, Injectable, Logger, OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import { AgentsService } from '../agents/agents.service';
import { API_CONFIG, type ApiConfig } from '../config/config';
import { RedisService } from '../redis/redis';
import { RunLifecycleService } from '../runs/run-lifecycle.service';
import { DispatchService } from './dispatch.service';

/** How often the dispatch repair checks every queued run, whatever Redis says of its data. */
const FULL_REPAIR_MS = 60_000;

/**
 * Finds what nobody will report: agents that went silent and runs whose lease expired (they
 * are retried or end as errored), jobs past their deadline (their runs end as timed out), runs
 * waiting for a device that stayed offline (they end as errored), and queued attempts Redis has
 * lost (they are queued again). One API replica at a time does it, under a Redis lease.
 *
 * Bound: a run whose agent dies is recovered within AGENT_TIMEOUT_MS + REAPER_INTERVAL_MS of
 * the agent's last heartbeat (11 s with the defaults), or at once when the agent restarts. The
 * reaper judges silence only over time it could hear: after this process starts, and after a
 * sweep that failed (the database or Redis unreachable, when heartbeats could not land either),
 * it waits AGENT_TIMEOUT_MS before it takes anything from an agent, so an outage of the API,
 * the database or Redis costs no run a retry. A queued attempt Redis lost is queued again within
 * AGENT_TIMEOUT_MS + REAPER_INTERVAL_MS of its queueing, or of Redis's return.
 */
@Injectable()
export class ReaperService implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger(ReaperService.name);
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private readonly owner = `${process.pid}-${Math.random().toString(36).slice(2)}`;
  /** Since when this process has heard heartbeats without a gap: its start, or its last failed sweep. */
  private hearingSince = Date.now();
  /** The dispatch repair's last pass: Redis's data mark then, what it checked up to, and when it last checked all. */
  private repaired: { epoch: string; before: Date; fullAt: number } | undefined;

  constructor(
    @Inject(API_CONFIG) private readonly config: ApiConfig,
    private readonly redis: RedisService,
    private readonly agents: AgentsService,
    private readonly lifecycle: RunLifecycleService,
    private readonly dispatch: DispatchService,
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
      if (now.getTime() - this.hearingSince >= this.config.AGENT_TIMEOUT_MS) {
        await this.agents.reapSilentAgents(now);
        const expired = await this.lifecycle.recoverExpiredLeases(now);
        if (expired > 0) this.logger.warn(`${expired} run(s) recovered: their lease expired`);
      }
      await this.repairDispatch(now);
      const overdue = await this.lifecycle.expireOverdue(now);
      if (overdue > 0) this.logger.warn(`${overdue} run(s) passed their job's deadline`);
      const absent = await this.lifecycle.expireAbsent(now);
      if (absent > 0) this.logger.warn(`${absent} queued run(s) ended: their device did not come back`);
      await this.lifecycle.finishCompletedJobs();
    } catch (error) {
      this.hearingSince = Date.now();
      this.logger.error(`sweep failed: ${String(error)}`);
    }
  }

  /**
   * Queues again the attempts Redis lost. Each sweep checks the runs whose queueing aged past
   * AGENT_TIMEOUT_MS since the last sweep (with as much again of overlap, for clocks and long
   * fan-out transactions); all queued runs are checked at this process's first repair, after
   * Redis lost its data, and every FULL_REPAIR_MS besides. Checking every old queued run at every
   * sweep cost 1.4 million EXISTS calls in a job of 12,000 runs on 1,000 devices.
   */
  private async repairDispatch(now: Date): Promise<void> {
    const before = new Date(now.getTime() - this.config.AGENT_TIMEOUT_MS);
    const epoch = await this.dispatch.queuesEpoch();
    const last = this.repaired;
    const full = !last || last.epoch !== epoch || now.getTime() - last.fullAt >= FULL_REPAIR_MS;
    const since = full ? undefined : new Date(last.before.getTime() - this.config.AGENT_TIMEOUT_MS);
    const requeued = await this.lifecycle.requeueMissing(before, since);
    this.repaired = { epoch, before, fullAt: full ? now.getTime() : last.fullAt };
    if (requeued > 0) this.logger.warn(`${requeued} queued attempt(s) were missing from Redis and were queued again`);
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
