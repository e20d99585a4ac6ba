import type { ApiError, ScheduleRunView, ScheduleView } from '@farm/contracts';
import { FarmApi } from '@farm/client';
import { startService, waitForHttp, type Service } from '../../../scripts/lib/processes';
import { freePort } from '../../../scripts/lib/stack';
import { startTestFarm, until, type TestFarm } from './support';

const NIGHT_MS = 24 * 3_600_000;

describe('schedules', () => {
  let farm: TestFarm;
  let second: Service;
  let secondApi: FarmApi;
  beforeAll(async () => {
    farm = await startTestFarm([{ name: 'sched', env: { SIM_DEVICES: '2' } }]);
    // A second replica beside the first: same database, same Redis prefix.
    const port = await freePort();
    second = startService('api-2', 'apps/api/src/main.ts', { ...farm.stack.env, PORT: String(port) }, { quiet: !process.env['FARM_TEST_VERBOSE'] });
    await waitForHttp(`http://127.0.0.1:${port}/api/health`, second);
    secondApi = new FarmApi(`http://127.0.0.1:${port}`, { token: farm.stack.token });
  });
  afterAll(async () => {
    await second.stop();
    await farm.stop();
  });

  const template = () => ({ name: `nightly-${farm.tag}`, models: ['mobilenet_v2'], scenarios: ['on_device'], devices: { tags: [farm.tag] }, iterations: 3 });
  const create = async (extra: Record<string, unknown> = {}) => {
    const response = await farm.api.request<ScheduleView>('POST', '/api/schedules', { name: `s-${Math.random()}`, cron: '0 2 * * *', timeZone: 'Europe/Paris', template: template(), enabled: false, ...extra });
    expect(response.status).toBe(201);
    return response.body;
  };

  it('answers bad input on every endpoint with a 400 naming the field, and writes nothing', async () => {
    const before = await farm.db.query(`SELECT count(*)::int AS n FROM schedules`);
    const bad: [string, string, unknown, string][] = [
      ['POST', '/api/schedules', { name: 'x', cron: '61 2 * * *', template: template() }, 'cron'],
      ['POST', '/api/schedules', { name: 'x', cron: 'nightly please', template: template() }, 'cron'],
      ['POST', '/api/schedules', { name: 'x', cron: '0 2 * * *', timeZone: 'Mars/Olympus', template: template() }, 'timeZone'],
      ['POST', '/api/schedules', { name: 'x', cron: '0 2 * * *', template: { ...template(), iterations: 0 } }, 'template.iterations'],
      ['POST', '/api/schedules', { name: 'x', cron: '0 2 * * *', template: template(), baselineNights: 0 }, 'baselineNights'],
      ['POST', '/api/schedules', { name: 'x', cron: '0 2 * * *', template: template(), webhookUrl: 'ftp://x' }, 'webhookUrl'],
      ['POST', '/api/schedules', { name: 'x', cron: '0 2 * * *', template: template(), colour: 'red' }, 'colour'],
    ];
    for (const [method, path, body, field] of bad) {
      const response = await farm.api.request<ApiError>(method, path, body);
      expect({ field, status: response.status }).toEqual({ field, status: 400 });
      expect(response.body.details.map((d) => d.path)).toContain(field);
    }
    expect((await farm.db.query(`SELECT count(*)::int AS n FROM schedules`)).rows).toEqual(before.rows);

    const schedule = await create();
    for (const [method, path, body, field] of [
      ['PATCH', `/api/schedules/${schedule.id}`, { cron: '0 25 * * *' }, 'cron'],
      ['PATCH', `/api/schedules/${schedule.id}`, { timeZone: 'Nowhere' }, 'timeZone'],
      ['PATCH', `/api/schedules/${schedule.id}`, {}, '(body)'],
      ['POST', `/api/schedules/${schedule.id}/run-now`, { fireTime: 'tonight' }, 'fireTime'],
    ] as const) {
      const response = await farm.api.request<ApiError>(method, path, body);
      expect({ field, status: response.status }).toEqual({ field, status: 400 });
      expect(response.body.details.map((d) => d.path)).toContain(field);
    }
    expect((await farm.api.request('GET', `/api/schedules/${schedule.id}`)).body).toMatchObject({ cron: '0 2 * * *', timeZone: 'Europe/Paris' });
    expect((await farm.api.request('GET', '/api/schedules/not-a-uuid')).status).toBe(400);
    expect((await farm.api.request('GET', '/api/schedules/00000000-0000-4000-8000-000000000000')).status).toBe(404);
    expect((await farm.api.request('DELETE', '/api/schedules/00000000-0000-4000-8000-000000000000')).status).toBe(404);
    expect((await farm.api.request('POST', '/api/schedules', { name: schedule.name, cron: '0 2 * * *', template: template() })).status).toBe(409);
  });

  it('shows the next fire times, in the time zone, and none while disabled', async () => {
    const schedule = await create({ enabled: true });
    expect(schedule.nextFireTimes).toHaveLength(5);
    for (const time of schedule.nextFireTimes) {
      const hour = new Intl.DateTimeFormat('en-GB', { timeZone: 'Europe/Paris', hour: '2-digit', minute: '2-digit' }).format(new Date(time));
      expect(hour).toBe('02:00');
    }
    const disabled = await farm.api.request<ScheduleView>('PATCH', `/api/schedules/${schedule.id}`, { enabled: false });
    expect(disabled.body.nextFireTimes).toEqual([]);
    expect((await farm.api.request('DELETE', `/api/schedules/${schedule.id}`)).status).toBe(204);
    expect((await farm.api.request('GET', `/api/schedules/${schedule.id}`)).status).toBe(404);
  });

  it('makes exactly one job per night when two replicas fire the same ten nights, twice each', async () => {
    const schedule = await create();
    const nights = Array.from({ length: 10 }, (_, i) => new Date(Date.UTC(2026, 9, 1, 0) + i * NIGHT_MS).toISOString());
    const firings = nights.flatMap((fireTime) => [farm.api, secondApi, farm.api, secondApi].map((api) => api.request<ScheduleRunView>('POST', `/api/schedules/${schedule.id}/run-now`, { fireTime })));
    const answers = await Promise.all(firings);
    expect(answers.every((a) => a.status === 201)).toBe(true);
    expect(answers.filter((a) => a.body.created)).toHaveLength(10);
    for (const night of nights) expect(new Set(answers.filter((a) => a.body.fireTime === night).map((a) => a.body.jobId)).size).toBe(1);
    const { rows } = await farm.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM jobs WHERE name = $1`, [template().name]);
    expect(rows[0]?.n).toBe(10);
  });

  it("is fired by BullMQ's Job Scheduler at the cron's times, registered once for both replicas", async () => {
    const schedule = await create({ cron: '* * * * * *', timeZone: 'UTC', enabled: true, template: { ...template(), name: `every-second-${farm.tag}` } });
    const nights = await until(async () => {
      const { rows } = await farm.db.query<{ fireTime: Date }>(`SELECT fire_time AS "fireTime" FROM schedule_runs WHERE schedule_id = $1 ORDER BY fire_time`, [schedule.id]);
      return rows.length >= 2 && rows;
    }, 15_000, 'two firings');
    await farm.api.request('PATCH', `/api/schedules/${schedule.id}`, { enabled: false });
    for (const night of nights) expect(night.fireTime.getTime() % 1000).toBe(0);
    const { rows } = await farm.db.query<{ jobs: number; nights: number }>(
      `SELECT count(*)::int AS jobs, count(DISTINCT fire_time)::int AS nights FROM schedule_runs WHERE schedule_id = $1`,
      [schedule.id],
    );
    expect(rows[0]?.jobs).toBe(rows[0]?.nights);
  });
});
