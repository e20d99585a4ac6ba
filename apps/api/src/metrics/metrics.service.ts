import { BeforeApplicationShutdown, Injectable, Logger } from '@nestjs/common';
import { deviceQueueName, type Phase, type RunResult, type Scenario } from '@farm/contracts';
import { Queue } from 'bullmq';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import { PrismaService } from '../prisma/prisma.service';
import { RedisService } from '../redis/redis';
import { SchedulerQueue } from '../schedules/scheduler.queue';

/** BullMQ job states a queue's depth is told in. */
const QUEUE_STATES = ['waiting', 'prioritized', 'active', 'delayed'] as const;

const MISNAMED_DEFAULTS = ['nodejs_active_handles_total', 'nodejs_active_requests_total', 'nodejs_active_resources_total'];

/** A run's or a phase's duration, seconds: from a 1 ms phase to a run of an hour. */
const PHASE_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];
const RUN_BUCKETS = [0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800, 3600];

export interface EndedRun {
  scenario: Scenario;
  result: RunResult;
  startedAt: Date | null;
}

/**
 * The API's Prometheus metrics. What this process does (runs it ended, rows it stored) is
 * counted as it happens, per replica; what the farm is (queues, runs, devices, agents) is read
 * from PostgreSQL and Redis at scrape time, so every replica tells the same and none keeps it.
 */
@Injectable()
export class MetricsService implements BeforeApplicationShutdown {
  private readonly logger = new Logger(MetricsService.name);
  readonly registry = new Registry();
  private readonly queues = new Map<string, Queue>();
  private readonly runDuration: Histogram<'scenario' | 'result'>;
  private readonly phaseDuration: Histogram<'phase'>;
  private readonly ingested: Counter;

  constructor(
    private readonly prisma: PrismaService,
    private readonly redis: RedisService,
    private readonly scheduler: SchedulerQueue,
  ) {
    const registers = [this.registry];
    collectDefaultMetrics({ register: this.registry });
    // Gauges that prom-client names like counters, which `promtool check metrics` rejects.
    for (const name of MISNAMED_DEFAULTS) this.registry.removeSingleMetric(name);
    this.runDuration = new Histogram({
      name: 'farm_run_duration_seconds',
      help: 'Runs ended by this API process: claim to end of the attempt that finished them',
      labelNames: ['scenario', 'result'],
      buckets: RUN_BUCKETS,
      registers,
    });
    this.phaseDuration = new Histogram({
      name: 'farm_phase_duration_seconds',
      help: 'Measured phases (warm-up iterations left out) stored by this API process, as the devices timed them',
      labelNames: ['phase'],
      buckets: PHASE_BUCKETS,
      registers,
    });
    this.ingested = new Counter({ name: 'farm_measurements_ingested_total', help: 'Measurement rows stored by this API process', registers });
    this.scrapeGauge('farm_queue_jobs', 'BullMQ jobs (run attempts) in the device queues, and fires in the schedules queue, by state', ['queue', 'state'], () =>
      this.queueDepths(),
    );
    this.scrapeGauge('farm_runs', 'Runs by status and result (none while unfinished)', ['status', 'result'], () =>
      this.prisma.sql.query(`SELECT status::text AS status, coalesce(result::text, 'none') AS result, count(*)::float8 AS value FROM runs GROUP BY 1, 2`),
    );
    this.scrapeGauge('farm_devices', 'Devices by backend and state', ['backend', 'state'], () =>
      this.prisma.sql.query(`SELECT backend::text AS backend, state::text AS state, count(*)::float8 AS value FROM devices GROUP BY 1, 2`),
    );
    this.scrapeGauge('farm_agents', 'Agents by state', ['state'], () =>
      this.prisma.sql.query(`SELECT state::text AS state, count(*)::float8 AS value FROM agents GROUP BY 1`),
    );
    this.scrapeGauge('farm_agent_heartbeat_age_seconds', 'Seconds since each agent last heartbeat', ['agent'], () =>
      this.prisma.sql.query(`SELECT name AS agent, extract(epoch FROM now() - last_heartbeat_at)::float8 AS value FROM agents`),
    );
  }

  /** After a commit: the runs it ended. */
  runsEnded(runs: readonly EndedRun[]): void {
    const now = Date.now();
    for (const run of runs) {
      if (run.startedAt) this.runDuration.observe({ scenario: run.scenario, result: run.result }, (now - run.startedAt.getTime()) / 1000);
    }
  }

  /** After a commit: the rows of a batch, of which `inserted` were new (a replayed batch stores none). */
  measurementsStored(batches: readonly { rows: readonly { phase: Phase; durationMs: number; warmup: boolean }[] }[], inserted: number): void {
    if (inserted === 0) return;
    this.ingested.inc(inserted);
    for (const { rows } of batches) for (const row of rows) if (!row.warmup) this.phaseDuration.observe({ phase: row.phase }, row.durationMs / 1000);
  }

  async beforeApplicationShutdown(): Promise<void> {
    await Promise.all([...this.queues.values()].map((q) => q.close()));
  }

  /** A gauge whose samples are read at each scrape; a failed read leaves it empty and is logged. */
  private scrapeGauge<L extends string>(name: string, help: string, labelNames: readonly L[], read: () => Promise<(Record<L, string> & { value: number })[]>): void {
    const gauge: Gauge<L> = new Gauge<L>({
      name,
      help,
      labelNames,
      registers: [this.registry],
      collect: async () => {
        gauge.reset();
        try {
          for (const { value, ...labels } of await read()) gauge.set(labels as unknown as Record<L, string>, Number(value));
        } catch (error) {
          this.logger.warn(`metric ${name} not read: ${String(error)}`);
        }
      },
    });
  }

  /** Summed over every device's queue (one per device), and the schedules queue. */
  private async queueDepths(): Promise<{ queue: string; state: string; value: number }[]> {
    const devices = await this.prisma.sql.query<{ id: string }>(`SELECT id FROM devices`);
    const counts = await Promise.all(devices.map((d) => this.deviceQueue(d.id).getJobCounts(...QUEUE_STATES)));
    const schedules = await this.scheduler.queue.getJobCounts(...QUEUE_STATES);
    return QUEUE_STATES.flatMap((state) => [
      { queue: 'device', state, value: counts.reduce((sum, c) => sum + (c[state] ?? 0), 0) },
      { queue: 'schedules', state, value: schedules[state] ?? 0 },
    ]);
  }

  private deviceQueue(deviceId: string): Queue {
    let queue = this.queues.get(deviceId);
    if (!queue) {
      queue = new Queue(deviceQueueName(deviceId), { connection: this.redis.client, prefix: this.redis.prefix });
      this.queues.set(deviceId, queue);
    }
    return queue;
  }
}
