import { Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { JobSpecSchema, type ScheduleSeriesKey } from '@farm/contracts';
import { JobsService } from '../jobs/jobs.service';
import { PrismaService, type Sql } from '../prisma/prisma.service';
import { judge, type Judgement } from './detector';
import { changes, touches, type EnvironmentChange, type NightEnvironment } from './environment';
import { WebhookService } from './webhook.service';

/** How often each replica looks for finished nights to analyse and alerts to deliver. */
const SWEEP_MS = 500;

interface Night {
  scheduleId: string;
  fireTime: Date;
  jobId: string;
  rerunJobId: string | null;
  baselineNights: number;
  template: unknown;
}

interface PastNight {
  fireTime: Date;
  jobIds: string[];
  passing: boolean;
  environment: NightEnvironment;
}

interface SampleRow extends ScheduleSeriesKey {
  jobId: string;
  durations: number[];
}

const seriesId = (s: ScheduleSeriesKey) => [s.deviceModel, s.backend, s.model, s.scenario, s.phase, s.network].join('\u0000');

/**
 * Detection, by a periodic sweep on every replica rather than a hook in the run lifecycle: a
 * night whose job (and re-run) has finished, and whose earlier nights are all analysed, is
 * claimed with `FOR UPDATE SKIP LOCKED`, so one replica analyses it, once. Each series is
 * judged against the pooled iterations of its last N passing nights since its baseline last
 * reset. An inconclusive series sends the night round again with one re-run job, after which
 * the night is judged on both jobs' iterations.
 */
@Injectable()
export class NightsService implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(NightsService.name);
  private timer: NodeJS.Timeout | undefined;
  private sweeping = false;

  constructor(
    private readonly prisma: PrismaService,
    private readonly jobs: JobsService,
    private readonly webhooks: WebhookService,
  ) {}

  onApplicationBootstrap(): void {
    this.timer = setInterval(() => void this.sweep(), SWEEP_MS);
  }

  onApplicationShutdown(): void {
    clearInterval(this.timer);
  }

  private async sweep(): Promise<void> {
    if (this.sweeping) return;
    this.sweeping = true;
    try {
      // One night after another, oldest first.
      for (let more = true; more; ) more = await this.analyseNext();
      await this.webhooks.deliverDue();
    } catch (error) {
      this.logger.error(`regression sweep failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
    } finally {
      this.sweeping = false;
    }
  }

  /** Analyses the oldest night that is ready; false when there is none. */
  private analyseNext(): Promise<boolean> {
    return this.prisma.transaction(async (sql) => {
      const [night] = await sql.query<Night>(
        `SELECT sr.schedule_id AS "scheduleId", sr.fire_time AS "fireTime", sr.job_id AS "jobId", sr.rerun_job_id AS "rerunJobId",
                s.baseline_nights AS "baselineNights", s.template
           FROM schedule_runs sr JOIN schedules s ON s.id = sr.schedule_id JOIN jobs j ON j.id = sr.job_id
           LEFT JOIN jobs rj ON rj.id = sr.rerun_job_id
          WHERE sr.analysed_at IS NULL AND j.finished_at IS NOT NULL AND (sr.rerun_job_id IS NULL OR rj.finished_at IS NOT NULL)
            AND NOT EXISTS (SELECT 1 FROM schedule_runs e WHERE e.schedule_id = sr.schedule_id AND e.fire_time < sr.fire_time AND e.analysed_at IS NULL)
          ORDER BY sr.fire_time
          LIMIT 1
          FOR UPDATE OF sr SKIP LOCKED`,
      );
      if (!night) return false;
      await this.analyse(sql, night);
      return true;
    });
  }

  private async analyse(sql: Sql, night: Night): Promise<void> {
    const jobIds = [night.jobId, ...(night.rerunJobId ? [night.rerunJobId] : [])];
    const environment = await this.environmentOf(sql, jobIds);
    const past = await sql.query<PastNight>(
      `SELECT fire_time AS "fireTime", array_remove(ARRAY[job_id, rerun_job_id], NULL)::text[] AS "jobIds", passing, environment
         FROM schedule_runs WHERE schedule_id = $1::uuid AND fire_time < $2::timestamptz AND analysed_at IS NOT NULL
        ORDER BY fire_time DESC`,
      [night.scheduleId, night.fireTime],
    );
    // Each night's change from the one before it, newest first; the first is tonight's.
    const steps: EnvironmentChange[] = past.map((p, i) => changes(p.environment, i === 0 ? environment : (past[i - 1]?.environment ?? environment)));
    const candidates = past.filter((p) => p.passing).slice(0, night.baselineNights);
    const samples = await this.samples(sql, [...jobIds, ...candidates.flatMap((p) => p.jobIds)]);

    const current = new Map<string, { key: ScheduleSeriesKey; durations: number[] }>();
    const byJob = new Map<string, SampleRow[]>();
    for (const row of samples) {
      if (jobIds.includes(row.jobId)) {
        const entry = current.get(seriesId(row)) ?? { key: keyOf(row), durations: [] };
        entry.durations.push(...row.durations);
        current.set(seriesId(row), entry);
      } else {
        byJob.set(row.jobId, [...(byJob.get(row.jobId) ?? []), row]);
      }
    }

    const judged: { key: ScheduleSeriesKey; judgement: Judgement; baselineNights: Date[] }[] = [];
    for (const { key, durations } of current.values()) {
      const nights = baselineOf(key, past, steps, night.baselineNights);
      const baseline = nights.flatMap((p) => p.jobIds.flatMap((id) => (byJob.get(id) ?? []).filter((r) => seriesId(r) === seriesId(key)).flatMap((r) => r.durations)));
      const judgement = judge(baseline, durations);
      if (judgement) judged.push({ key, judgement, baselineNights: nights.map((p) => p.fireTime) });
    }

    if (!night.rerunJobId && judged.some((j) => j.judgement.kind === 'inconclusive')) {
      const template = JobSpecSchema.parse(night.template);
      const rerun = await this.jobs.create({ ...template, name: `${template.name} (re-run)` });
      await sql.execute(`UPDATE schedule_runs SET rerun_job_id = $3::uuid WHERE schedule_id = $1::uuid AND fire_time = $2::timestamptz`, [night.scheduleId, night.fireTime, rerun.id]);
      this.logger.log(`night ${night.fireTime.toISOString()}: inconclusive series, re-run as job ${rerun.id}`);
      return;
    }

    for (const { key, judgement, baselineNights } of judged) {
      if (judgement.kind !== 'regression' && judgement.kind !== 'improvement') continue;
      const { evidence } = judgement;
      // A change already raised on one of the baseline nights is the same change, not a new one.
      await sql.execute(
        `INSERT INTO alerts (id, schedule_id, fire_time, device_model, backend, model, scenario, phase, network, verdict,
                             baseline_median, baseline_n, current_median, current_n, p, shift_ms, change_pct, delivery_state)
         SELECT gen_random_uuid(), $1::uuid, $2::timestamptz, $3, $4::"Backend", $5, $6::"Scenario", $7::"Phase", $8, $9,
                $10, $11, $12, $13, $14, $15, $16, CASE WHEN s.webhook_url IS NULL THEN 'none' ELSE 'pending' END
           FROM schedules s WHERE s.id = $1::uuid
            AND NOT EXISTS (SELECT 1 FROM alerts a WHERE a.schedule_id = $1::uuid AND a.fire_time = ANY($17::timestamptz[])
                              AND a.device_model = $3 AND a.backend = $4::"Backend" AND a.model = $5 AND a.scenario = $6::"Scenario"
                              AND a.phase = $7::"Phase" AND a.network = $8 AND a.verdict = $9)
         ON CONFLICT DO NOTHING`,
        [
          night.scheduleId, night.fireTime, key.deviceModel, key.backend, key.model, key.scenario, key.phase, key.network, judgement.kind,
          evidence.baseline.median, evidence.baseline.n, evidence.current.median, evidence.current.n, evidence.p, evidence.shiftMs, evidence.changePct,
          baselineNights,
        ],
      );
    }
    const reset = steps[0]?.notes ?? [];
    await sql.execute(
      `UPDATE schedule_runs SET analysed_at = now(), environment = $3::jsonb, baseline_reset = $4,
              passing = NOT EXISTS (SELECT 1 FROM runs WHERE job_id = ANY($5::uuid[]) AND result IS DISTINCT FROM 'passed')
        WHERE schedule_id = $1::uuid AND fire_time = $2::timestamptz`,
      [night.scheduleId, night.fireTime, JSON.stringify(environment), reset.length > 0 ? reset.join('; ') : null, jobIds],
    );
  }

  /** The devices' build fingerprints and the registered models' sha256 (bundled ones have none) of a night's jobs. */
  private async environmentOf(sql: Sql, jobIds: readonly string[]): Promise<NightEnvironment> {
    const devices = await sql.query<{ id: string; deviceModel: string; fingerprint: string | null }>(
      `SELECT DISTINCT d.id, d.model AS "deviceModel", d.properties->>'fingerprint' AS fingerprint
         FROM runs r JOIN devices d ON d.id = r.device_id WHERE r.job_id = ANY($1::uuid[])`,
      [jobIds],
    );
    const models = await sql.query<{ name: string; sha256: string | null }>(
      `SELECT DISTINCT r.model AS name, rm.sha256 FROM runs r LEFT JOIN registered_models rm ON rm.name = r.model WHERE r.job_id = ANY($1::uuid[])`,
      [jobIds],
    );
    return {
      devices: Object.fromEntries(devices.map((d) => [d.id, { deviceModel: d.deviceModel, fingerprint: d.fingerprint }])),
      models: Object.fromEntries(models.map((m) => [m.name, m.sha256])),
    };
  }

  /** Measured iterations of passed runs' current attempts, per job and series (the cold model load apart). */
  private samples(sql: Sql, jobIds: readonly string[]): Promise<SampleRow[]> {
    return sql.query<SampleRow>(
      `SELECT r.job_id::text AS "jobId", d.model AS "deviceModel", d.backend::text AS backend, r.model, r.scenario::text AS scenario,
              m.phase::text AS phase, j.network, array_agg(m.duration_ms) AS durations
         FROM runs r JOIN jobs j ON j.id = r.job_id JOIN devices d ON d.id = r.device_id
         JOIN measurements m ON m.run_id = r.id AND m.attempt = r.attempt
        WHERE r.job_id = ANY($1::uuid[]) AND r.result = 'passed' AND NOT m.warmup AND NOT (m.phase = 'model_load' AND m.iteration = 0)
        GROUP BY r.job_id, d.model, d.backend, r.model, r.scenario, m.phase, j.network`,
      [jobIds],
    );
  }
}

function keyOf({ deviceModel, backend, model, scenario, phase, network }: ScheduleSeriesKey): ScheduleSeriesKey {
  return { deviceModel, backend, model, scenario, phase, network };
}

/** A series' baseline: its last `count` passing nights, none from before its device or model last changed. */
function baselineOf(key: ScheduleSeriesKey, past: readonly PastNight[], steps: readonly EnvironmentChange[], count: number): PastNight[] {
  const nights: PastNight[] = [];
  for (const [i, night] of past.entries()) {
    const step = steps[i];
    if (step && touches(step, key)) break;
    if (night.passing) nights.push(night);
    if (nights.length === count) break;
  }
  return nights;
}
