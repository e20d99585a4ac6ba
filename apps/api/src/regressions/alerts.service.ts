import { Injectable, NotFoundException } from '@nestjs/common';
import type { AlertNight, AlertState, AlertView, ScheduleSeriesKey, SeriesNight } from '@farm/contracts';
import { median } from '@farm/stats';
import { PrismaService } from '../prisma/prisma.service';
import { DETECTION } from './detector';
import { changes, touches, type NightEnvironment } from './environment';

export interface AlertQuery {
  schedule?: string;
  night?: string;
  state?: AlertState;
}

const ALERT_COLUMNS = `id, schedule_id AS "scheduleId", fire_time AS "fireTime", device_model AS "deviceModel", backend::text AS backend, model,
  scenario::text AS scenario, phase::text AS phase, network, verdict, baseline_median AS "baselineMedian", baseline_n AS "baselineN",
  current_median AS "currentMedian", current_n AS "currentN", p, shift_ms AS "shiftMs", change_pct AS "changePct", state, note,
  delivery_state AS "deliveryState", delivery_attempts AS "deliveryAttempts", created_at AS "createdAt"`;

type AlertRow = Omit<AlertView, 'baseline' | 'current' | 'delivery' | 'fireTime' | 'createdAt'> & {
  fireTime: Date;
  createdAt: Date;
  baselineMedian: number;
  baselineN: number;
  currentMedian: number;
  currentN: number;
  deliveryState: AlertView['delivery']['state'];
  deliveryAttempts: number;
};

@Injectable()
export class AlertsService {
  constructor(private readonly prisma: PrismaService) {}

  /** Alerts, grouped per night (a schedule's fire time), newest night first. */
  async list(query: AlertQuery): Promise<AlertNight[]> {
    const rows = await this.prisma.sql.query<AlertRow>(
      `SELECT ${ALERT_COLUMNS} FROM alerts
        WHERE ($1::uuid IS NULL OR schedule_id = $1::uuid) AND ($2::timestamptz IS NULL OR fire_time = $2::timestamptz)
          AND ($3::text IS NULL OR state = $3)
        ORDER BY fire_time DESC, schedule_id, device_model, model, scenario, phase`,
      [query.schedule ?? null, query.night ?? null, query.state ?? null],
    );
    const nights = new Map<string, AlertNight>();
    for (const alert of rows.map(toView)) {
      const key = `${alert.scheduleId}@${alert.fireTime}`;
      const night = nights.get(key) ?? { scheduleId: alert.scheduleId, fireTime: alert.fireTime, alerts: [] };
      night.alerts.push(alert);
      nights.set(key, night);
    }
    return [...nights.values()];
  }

  async triage(id: string, state: AlertState, note: string | undefined): Promise<AlertView> {
    const [row] = await this.prisma.sql.query<AlertRow>(
      `UPDATE alerts SET state = $2, note = coalesce($3, note), updated_at = now() WHERE id = $1::uuid RETURNING ${ALERT_COLUMNS}`,
      [id, state, note ?? null],
    );
    if (!row) throw new NotFoundException(`alert ${id} does not exist`);
    return toView(row);
  }

  /** A series' nightly medians, oldest first, with the baseline band each night was judged against and its alerts. */
  async series(scheduleId: string, key: ScheduleSeriesKey, limit: number): Promise<SeriesNight[]> {
    const [schedule] = await this.prisma.sql.query<{ baselineNights: number }>(`SELECT baseline_nights AS "baselineNights" FROM schedules WHERE id = $1::uuid`, [scheduleId]);
    if (!schedule) throw new NotFoundException(`schedule ${scheduleId} does not exist`);
    const points = await this.prisma.sql.query<{
      fireTime: Date;
      jobIds: string[];
      n: number;
      median: number;
      passing: boolean;
      baselineReset: string | null;
      environment: NightEnvironment;
    }>(
      `WITH nights AS (
         SELECT fire_time, array_remove(ARRAY[job_id, rerun_job_id], NULL) AS jobs, passing, baseline_reset, environment
           FROM schedule_runs WHERE schedule_id = $1::uuid AND analysed_at IS NOT NULL ORDER BY fire_time DESC LIMIT $8
       )
       SELECT n.fire_time AS "fireTime", n.jobs::text[] AS "jobIds", count(*)::int AS n, n.passing, n.baseline_reset AS "baselineReset", n.environment,
              percentile_cont(0.5) WITHIN GROUP (ORDER BY m.duration_ms) AS median
         FROM nights n JOIN runs r ON r.job_id = ANY(n.jobs) AND r.result = 'passed' AND r.model = $4 AND r.scenario = $5::"Scenario"
         JOIN jobs j ON j.id = r.job_id AND j.network = $7
         JOIN devices d ON d.id = r.device_id AND d.model = $2 AND d.backend = $3::"Backend"
         JOIN measurements m ON m.run_id = r.id AND m.attempt = r.attempt AND m.phase = $6::"Phase" AND NOT m.warmup
                            AND NOT (m.phase = 'model_load' AND m.iteration = 0)
        GROUP BY n.fire_time, n.jobs, n.passing, n.baseline_reset, n.environment
        ORDER BY n.fire_time`,
      [scheduleId, key.deviceModel, key.backend, key.model, key.scenario, key.phase, key.network, limit + schedule.baselineNights],
    );
    const alerts = await this.prisma.sql.query<{ id: string; fireTime: Date; verdict: string; state: string; changePct: number }>(
      `SELECT id, fire_time AS "fireTime", verdict, state, change_pct AS "changePct" FROM alerts
        WHERE schedule_id = $1::uuid AND device_model = $2 AND backend = $3::"Backend" AND model = $4 AND scenario = $5::"Scenario" AND phase = $6::"Phase" AND network = $7`,
      [scheduleId, key.deviceModel, key.backend, key.model, key.scenario, key.phase, key.network],
    );
    const out = points.map((point, i): SeriesNight => {
      const earlier: number[] = [];
      for (let j = i - 1; j >= 0 && earlier.length < schedule.baselineNights; j--) {
        const before = points[j];
        const after = points[j + 1];
        if (!before || !after || touches(changes(before.environment, after.environment), key)) break;
        if (before.passing) earlier.push(before.median);
      }
      const base = earlier.length > 0 ? median(earlier) : null;
      const band = DETECTION.minEffectPct / 100;
      return {
        fireTime: point.fireTime.toISOString(),
        jobIds: point.jobIds,
        n: point.n,
        median: point.median,
        baseline: base === null ? null : { median: base, lower: base * (1 - band), upper: base * (1 + band), nights: earlier.length },
        baselineReset: point.baselineReset,
        alerts: alerts.filter((a) => a.fireTime.getTime() === point.fireTime.getTime()).map(({ id, verdict, state, changePct }) => ({ id, verdict, state, changePct })),
      };
    });
    return out.slice(-limit);
  }
}

function toView(row: AlertRow): AlertView {
  const { baselineMedian, baselineN, currentMedian, currentN, deliveryState, deliveryAttempts, fireTime, createdAt, ...rest } = row;
  return {
    ...rest,
    fireTime: fireTime.toISOString(),
    createdAt: createdAt.toISOString(),
    baseline: { median: baselineMedian, n: baselineN },
    current: { median: currentMedian, n: currentN },
    delivery: { state: deliveryState, attempts: deliveryAttempts },
  };
}
