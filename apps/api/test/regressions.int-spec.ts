import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { AlertView, ApiError, ScheduleView } from '@farm/contracts';
import { startTestFarm, until, type TestFarm } from './support';

const NIGHT_MS = 24 * 3_600_000;
const FIRST_NIGHT = Date.UTC(2026, 9, 1, 2);
const night = (k: number) => new Date(FIRST_NIGHT + (k - 1) * NIGHT_MS).toISOString();
const LOW_END = 'Sim Low-end 2016';

interface AlertNight {
  scheduleId: string;
  fireTime: string;
  alerts: AlertView[];
}

describe('regressions', () => {
  let farm: TestFarm;
  beforeAll(async () => {
    farm = await startTestFarm([{ name: 'nightly', env: { SIM_DEVICES: '3' } }]);
  });
  afterAll(() => farm.stop());

  const createSchedule = async (name: string, extra: Record<string, unknown> = {}) => {
    const template = { name: `${name}-${farm.tag}`, models: ['mobilenet_v2', 'inception_v3'], scenarios: ['on_device', 'cloud'], devices: { tags: [farm.tag] }, iterations: 40 };
    const response = await farm.api.request<ScheduleView>('POST', '/api/schedules', { name: `${name}-${farm.tag}`, cron: '0 2 * * *', template, enabled: false, baselineNights: 7, ...extra });
    expect(response.status).toBe(201);
    return response.body;
  };

  /** Fires night k and waits until it has been analysed (after its re-run, when it needs one). */
  const runNight = async (schedule: ScheduleView, k: number) => {
    const response = await farm.api.request('POST', `/api/schedules/${schedule.id}/run-now`, { fireTime: night(k) });
    expect(response.status).toBe(201);
    await until(async () => {
      const { rows } = await farm.db.query(`SELECT 1 FROM schedule_runs WHERE schedule_id = $1 AND fire_time = $2 AND analysed_at IS NOT NULL`, [schedule.id, night(k)]);
      return rows.length > 0;
    }, 60_000, `night ${k} analysed`);
  };

  const alertsOf = async (schedule: ScheduleView) => {
    const response = await farm.api.request<AlertNight[]>('GET', `/api/alerts?schedule=${schedule.id}`);
    expect(response.status).toBe(200);
    return response.body.flatMap((n) => n.alerts);
  };

  /** Series a night judges: those with at least 30 measured iterations (the detector's minimum). */
  const seriesPerNight = async (schedule: ScheduleView) => {
    const { rows } = await farm.db.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM (
         SELECT 1 FROM schedule_runs sr JOIN runs r ON r.job_id = sr.job_id JOIN devices d ON d.id = r.device_id
           JOIN measurements m ON m.run_id = r.id AND m.attempt = r.attempt AND NOT m.warmup AND NOT (m.phase = 'model_load' AND m.iteration = 0)
          WHERE sr.schedule_id = $1 AND sr.fire_time = $2
          GROUP BY d.model, r.model, r.scenario, m.phase HAVING count(*) >= 30) AS s`,
      [schedule.id, night(1)],
    );
    return rows[0]?.n ?? 0;
  };

  it('answers bad input with a 400 naming the field', async () => {
    const schedule = await createSchedule('bad-input');
    const cases: [string, string, unknown, string][] = [
      ['GET', '/api/alerts?state=open', undefined, 'state'],
      ['GET', '/api/alerts?night=yesterday', undefined, 'night'],
      ['GET', '/api/alerts?schedule=nope', undefined, 'schedule'],
      ['GET', `/api/schedules/${schedule.id}/series?deviceModel=x&backend=simulated&model=m&scenario=on_device`, undefined, 'phase'],
      ['GET', `/api/schedules/${schedule.id}/series?deviceModel=x&backend=phone&model=m&scenario=on_device&phase=inference`, undefined, 'backend'],
      ['PATCH', '/api/alerts/00000000-0000-4000-8000-000000000000', { state: 'closed' }, 'state'],
    ];
    for (const [method, path, body, field] of cases) {
      const response = await farm.api.request<ApiError>(method, path, body);
      expect({ path, status: response.status }).toEqual({ path, status: 400 });
      expect(response.body.details.map((d) => d.path)).toContain(field);
    }
    expect((await farm.api.request('PATCH', '/api/alerts/00000000-0000-4000-8000-000000000000', { state: 'fixed' })).status).toBe(404);
    expect((await farm.api.request('GET', '/api/schedules/00000000-0000-4000-8000-000000000000/series?deviceModel=x&backend=simulated&model=m&scenario=on_device&phase=inference')).status).toBe(404);
  });

  it('raises at most one false alert per 100 series-nights over thirty nights of noise', async () => {
    const schedule = await createSchedule('noise');
    for (let k = 1; k <= 30; k++) await runNight(schedule, k);
    const alerts = await alertsOf(schedule);
    const seriesNights = (await seriesPerNight(schedule)) * 29;
    const { rows: reruns } = await farm.db.query<{ n: number }>(`SELECT count(rerun_job_id)::int AS n FROM schedule_runs WHERE schedule_id = $1`, [schedule.id]);
    const rate = (100 * alerts.length) / seriesNights;
    console.log(`false alerts: ${alerts.length} in ${seriesNights} series-nights (${rate.toFixed(2)} per 100), ${reruns[0]?.n ?? 0} re-runs`);
    expect(seriesNights).toBeGreaterThan(1_000);
    expect(rate).toBeLessThanOrEqual(1);
  });

  it("restarts a series' baseline when its device's build fingerprint changes, with a note", async () => {
    const schedule = await createSchedule('rebuilt');
    for (let k = 1; k <= 2; k++) await runNight(schedule, k);
    await farm.db.query(`UPDATE devices SET properties = properties || '{"fingerprint": "sim/low/2"}' WHERE $1 = ANY(tags) AND model = $2`, [farm.tag, LOW_END]);
    await runNight(schedule, 3);
    const { rows } = await farm.db.query<{ note: string }>(`SELECT baseline_reset AS note FROM schedule_runs WHERE schedule_id = $1 AND fire_time = $2`, [schedule.id, night(3)]);
    expect(rows[0]?.note).toMatch(/\(Sim Low-end 2016\) build fingerprint none → sim\/low\/2/);
    const series = (deviceModel: string) =>
      farm.api.request<{ fireTime: string; baseline: { nights: number } | null; baselineReset: string | null }[]>(
        'GET',
        `/api/schedules/${schedule.id}/series?deviceModel=${encodeURIComponent(deviceModel)}&backend=simulated&model=mobilenet_v2&scenario=on_device&phase=inference`,
      );
    const low = (await series(LOW_END)).body.find((p) => p.fireTime === night(3));
    expect(low).toMatchObject({ baseline: null, baselineReset: expect.stringContaining('sim/low/2') });
    const mid = (await series('Sim Mid-range 2020')).body.find((p) => p.fireTime === night(3));
    expect(mid?.baseline?.nights).toBe(2);
    // As the phone was: registration writes its properties again when its agent restarts.
    await farm.db.query(`UPDATE devices SET properties = properties - 'fingerprint' WHERE $1 = ANY(tags)`, [farm.tag]);
  });

  it('detects a 10% inference slowdown on one profile on the night it starts, in that series only, and posts each alert once', async () => {
    const received: string[] = [];
    let refused = 0;
    const receiver: Server = createServer((request, response) => {
      let body = '';
      request.on('data', (chunk: Buffer) => (body += chunk.toString()));
      request.on('end', () => {
        // Fails twice, then takes everything.
        if (refused < 2) {
          refused++;
          response.writeHead(500).end();
          return;
        }
        received.push((JSON.parse(body) as { text: string }).text);
        response.writeHead(200).end('ok');
      });
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    try {
      const schedule = await createSchedule('slowdown', { webhookUrl: `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook` });
      for (let k = 1; k <= 19; k++) await runNight(schedule, k);
      const before = (await alertsOf(schedule)).length;

      // From now on, the low-end phones' inference takes 10% longer: the same agent, restarted with the change.
      const [agent] = farm.stack.agents;
      await agent?.stop();
      await farm.stack.startAgent(farm.agentEnv('nightly', { SIM_DEVICES: '3', SIM_SLOWDOWN: `low_end:inference:1.1:${new Date().toISOString()}` }));
      await until(async () => {
        const { rows } = await farm.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM devices WHERE $1 = ANY(tags) AND state = 'available'`, [farm.tag]);
        return rows[0]?.n === 3;
      }, 30_000, 'the restarted agent');
      // The nights the change must be caught on; more nights would only add chances of a false
      // alert elsewhere, which the noise test measures on its own.
      for (let k = 20; k <= 21; k++) await runNight(schedule, k);

      const alerts = (await alertsOf(schedule)).filter((a) => a.fireTime >= night(20));
      console.log(`alerts after the slowdown: ${alerts.map((a) => `${a.fireTime} ${a.deviceModel} ${a.model} ${a.scenario} ${a.phase} ${a.changePct.toFixed(1)}%`).join('; ')}`);
      // Detected on the night the change starts, or the next when that night's samples could not
      // tell (the issue's bound: night 20, or 21 after the re-run).
      const detectedOn = [night(20), night(21)];
      // The slower inference makes a slower total too, on those nights, in the low-end phones'
      // on-device series and nowhere else.
      const caused = (a: AlertView) =>
        a.deviceModel === LOW_END && a.scenario === 'on_device' && a.verdict === 'regression' && ['inference', 'total'].includes(a.phase) && detectedOn.includes(a.fireTime);
      for (const model of ['mobilenet_v2', 'inception_v3']) {
        const inference = alerts.filter((a) => a.model === model && a.phase === 'inference' && caused(a));
        expect(inference).toHaveLength(1);
        expect(inference[0]?.changePct).toBeGreaterThan(5);
        expect(inference[0]?.p).toBeLessThan(0.01);
      }
      // Every other series is judged too, at the detector's false-alert rate, which the noise test
      // bounds (1 in 2,088 series-nights measured): these two nights judge about 140 series-nights,
      // so one alert elsewhere is noise (it came in about one CI run in fifteen), while a slowdown
      // that leaked into another series would raise several (its inference and total, per CNN).
      const elsewhere = alerts.filter((a) => !caused(a));
      expect(elsewhere.length).toBeLessThanOrEqual(1);

      // The series as data: the night's median above the band of the nights before, with its alert.
      const series = await farm.api.request<{ fireTime: string; median: number; baseline: { upper: number } | null; alerts: unknown[] }[]>(
        'GET',
        `/api/schedules/${schedule.id}/series?deviceModel=${encodeURIComponent(LOW_END)}&backend=simulated&model=inception_v3&scenario=on_device&phase=inference`,
      );
      expect(series.status).toBe(200);
      expect(series.body).toHaveLength(21);
      const alerted = alerts.find((a) => a.model === 'inception_v3' && a.phase === 'inference' && caused(a))?.fireTime;
      const point = series.body.find((p) => p.fireTime === alerted);
      expect(point?.median).toBeGreaterThan(point?.baseline?.upper ?? Infinity);
      expect(point?.alerts).toHaveLength(1);

      // Each alert reaches the webhook exactly once, after the receiver's two failures.
      const all = before + alerts.length;
      await until(async () => received.length >= all && (await alertsOf(schedule)).every((a) => a.delivery.state === 'delivered'), 30_000, 'deliveries');
      await new Promise((resolve) => setTimeout(resolve, 1_500));
      expect(refused).toBe(2);
      expect(received).toHaveLength(all);
      expect(new Set(received).size).toBe(all);
      expect((await alertsOf(schedule)).reduce((sum, a) => sum + a.delivery.attempts, 0)).toBe(all + 2);
      expect(received.every((text) => /^(Regression|Improvement) in slowdown-/.test(text))).toBe(true);
      expect(received.filter((text) => text.includes(`${LOW_END} · `) && text.includes(' · on_device · inference · '))).toHaveLength(2);

      const [first] = alerts;
      const triaged = await farm.api.request<AlertView>('PATCH', `/api/alerts/${first?.id}`, { state: 'acknowledged', note: 'a slower build, on purpose' });
      expect(triaged.body).toMatchObject({ state: 'acknowledged', note: 'a slower build, on purpose' });
      const acknowledged = await farm.api.request<AlertNight[]>('GET', `/api/alerts?schedule=${schedule.id}&night=${encodeURIComponent(first?.fireTime ?? '')}&state=acknowledged`);
      expect(acknowledged.body.flatMap((n) => n.alerts.map((a) => a.id))).toEqual([first?.id]);
    } finally {
      receiver.close();
    }
  });
});
