import { Injectable, Logger } from '@nestjs/common';
import { PrismaService } from '../prisma/prisma.service';

/** Attempts before a delivery is given up, and the first wait between two (doubled each time, at most an hour). */
const MAX_ATTEMPTS = 8;
const FIRST_BACKOFF_MS = 500;
const MAX_BACKOFF_MS = 3_600_000;
const POST_TIMEOUT_MS = 10_000;

interface Due {
  id: string;
  url: string;
  attempts: number;
  schedule: string;
  fireTime: Date;
  deviceModel: string;
  backend: string;
  model: string;
  scenario: string;
  phase: string;
  network: string;
  verdict: string;
  baselineMedian: number;
  baselineN: number;
  currentMedian: number;
  currentN: number;
  p: number;
  changePct: number;
}

/** The message Slack's incoming webhooks take: a text fallback and the same in blocks. */
export function slackMessage(alert: Due): { text: string; blocks: unknown[] } {
  const sign = alert.changePct >= 0 ? '+' : '';
  const series = [alert.deviceModel, alert.model, alert.scenario, alert.phase, alert.backend, alert.network].join(' · ');
  const text =
    `${alert.verdict === 'regression' ? 'Regression' : 'Improvement'} in ${alert.schedule} (night ${alert.fireTime.toISOString()}): ${series} ` +
    `${sign}${alert.changePct.toFixed(1)}% — median ${alert.baselineMedian.toFixed(2)} ms (n ${alert.baselineN}) → ${alert.currentMedian.toFixed(2)} ms (n ${alert.currentN}), p = ${alert.p.toPrecision(2)}`;
  return { text, blocks: [{ type: 'section', text: { type: 'mrkdwn', text } }] };
}

/**
 * Posts each alert of a schedule with a webhook once: the alert's row stays locked while it is
 * posted and is marked delivered in the same transaction, so replicas never post it twice; a
 * failed post is tried again later with exponential backoff, up to MAX_ATTEMPTS.
 */
@Injectable()
export class WebhookService {
  private readonly logger = new Logger(WebhookService.name);

  constructor(private readonly prisma: PrismaService) {}

  async deliverDue(): Promise<void> {
    for (let more = true; more; ) more = await this.deliverNext();
  }

  private deliverNext(): Promise<boolean> {
    return this.prisma.transaction(async (sql) => {
      const [alert] = await sql.query<Due>(
        `SELECT a.id, s.webhook_url AS url, a.delivery_attempts AS attempts, s.name AS schedule, a.fire_time AS "fireTime",
                a.device_model AS "deviceModel", a.backend::text AS backend, a.model, a.scenario::text AS scenario, a.phase::text AS phase,
                a.network, a.verdict, a.baseline_median AS "baselineMedian", a.baseline_n AS "baselineN",
                a.current_median AS "currentMedian", a.current_n AS "currentN", a.p, a.change_pct AS "changePct"
           FROM alerts a JOIN schedules s ON s.id = a.schedule_id
          WHERE a.delivery_state = 'pending' AND a.deliver_after <= now() AND s.webhook_url IS NOT NULL
          ORDER BY a.deliver_after
          LIMIT 1
          FOR UPDATE OF a SKIP LOCKED`,
      );
      if (!alert) return false;
      const problem = await post(alert.url, slackMessage(alert));
      const attempts = alert.attempts + 1;
      if (problem === null) {
        await sql.execute(`UPDATE alerts SET delivery_state = 'delivered', delivery_attempts = $2 WHERE id = $1::uuid`, [alert.id, attempts]);
        return true;
      }
      this.logger.warn(`webhook for alert ${alert.id} failed (attempt ${attempts}): ${problem}`);
      const backoffMs = Math.min(MAX_BACKOFF_MS, FIRST_BACKOFF_MS * 2 ** (attempts - 1));
      await sql.execute(
        `UPDATE alerts SET delivery_attempts = $2::int, delivery_state = CASE WHEN $2::int >= $3::int THEN 'failed' ELSE 'pending' END,
                deliver_after = now() + $4::float8 * interval '1 millisecond' WHERE id = $1::uuid`,
        [alert.id, attempts, MAX_ATTEMPTS, backoffMs],
      );
      return true;
    });
  }
}

/** Null when the receiver took the message (2xx), else why not. */
async function post(url: string, body: unknown): Promise<string | null> {
  try {
    const response = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(POST_TIMEOUT_MS),
    });
    await response.body?.cancel();
    return response.ok ? null : `HTTP ${response.status}`;
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  }
}
