import type { AlertNight, ApiError, ScheduleView, SeriesNight } from '@farm/contracts';
import { until, type TestFarm } from '../../api/test/support';
import { formatFigure, formatPercent, seriesPath } from '../src/view';
import { dashboardSuite, screenshot, unnamedControls, type Tab } from './browser';

const NIGHT_MS = 24 * 3_600_000;
const FIRST_NIGHT = Date.UTC(2026, 9, 1, 2);
const night = (k: number): string => new Date(FIRST_NIGHT + (k - 1) * NIGHT_MS).toISOString();
const LOW_END = 'Sim Low-end 2016';

/**
 * The schedules, regressions and series pages in headless Chromium against the real API and an
 * agent with one simulated low-end phone; nights are fired by hand, as the controllable clock
 * lets tests do, and a slowdown injected into the phone from one night on.
 */
describe('dashboard: nightly pages', () => {
  const suite = dashboardSuite([{ name: 'nightly', env: { SIM_DEVICES: '1', SIM_PROFILES: 'low_end' } }]);
  let farm: TestFarm;
  let tab: Tab;
  beforeEach(() => ({ farm, tab } = suite));
  const url = (p: string): string => `${farm.stack.apiUrl}${p}`;
  const agentEnv = (extra: NodeJS.ProcessEnv = {}) => farm.agentEnv('nightly', { SIM_DEVICES: '1', SIM_PROFILES: 'low_end', ...extra });

  it('creates a schedule from the form, names a bad cron beside its field, shows the next fire times, edits it by keyboard and runs it now', async () => {
    const { page } = tab;
    const name = `form-${farm.tag}`;
    await page.goto(url('/'));
    await page.getByRole('link', { name: 'Schedules' }).click();
    await page.getByRole('heading', { name: 'New schedule' }).waitFor();
    await page.getByLabel('Name').fill(name);
    await page.getByLabel('Cron').fill('every night at two');
    await page.getByLabel('Time zone').fill('Europe/Paris');
    await page.getByRole('checkbox', { name: 'mobilenet_v2', exact: true }).check();
    await page.getByLabel('Tags (comma-separated)').fill(farm.tag);
    await page.getByLabel('Iterations').fill('5');
    expect(await unnamedControls(page)).toEqual([]);
    await page.getByRole('button', { name: 'Create schedule' }).click();

    // The API's own message, beside the field it names.
    const template = { name, models: ['mobilenet_v2'], scenarios: ['on_device'], devices: { tags: [farm.tag] }, iterations: 5 };
    const bad = await farm.api.request<ApiError>('POST', '/api/schedules', { name, cron: 'every night at two', timeZone: 'Europe/Paris', template });
    expect(bad.status).toBe(400);
    const message = bad.body.details.filter((d) => d.path === 'cron').map((d) => d.message);
    expect(message.length).toBe(1);
    await expect(page.locator('#error-cron').textContent()).resolves.toBe(message.join(''));
    expect(await page.getByLabel('Cron').getAttribute('aria-describedby')).toBe('error-cron');
    await screenshot(tab, 'schedules-form-errors');

    await page.getByLabel('Cron').fill('30 2 * * *');
    await page.getByRole('button', { name: 'Create schedule' }).click();
    const saved = page.getByTestId('saved-schedule');
    await saved.waitFor();
    const [created] = (await farm.api.request<ScheduleView[]>('GET', '/api/schedules')).body.filter((s) => s.name === name);
    if (!created) throw new Error('the schedule was not created');
    expect(created).toMatchObject({ cron: '30 2 * * *', timeZone: 'Europe/Paris', enabled: true, template: { models: ['mobilenet_v2'], devices: { tags: [farm.tag] }, iterations: 5 } });
    expect(created.nextFireTimes).toHaveLength(5);
    expect(await saved.locator('time').evaluateAll((times) => times.map((t) => t.getAttribute('datetime')))).toEqual(created.nextFireTimes);
    // 02:30 in Paris, whatever the season.
    expect(await saved.locator('time').first().textContent()).toMatch(/ 02:30 \(Europe\/Paris\)$/);
    const row = page.locator(`tr[data-schedule="${created.id}"]`);
    expect(await row.locator('time').evaluateAll((times) => times.map((t) => t.getAttribute('datetime')))).toEqual(created.nextFireTimes.slice(0, 3));

    // Edit by keyboard: the row's Edit button, the baseline field, Enter to save.
    await page.getByRole('button', { name: `Edit ${name}` }).focus();
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { name: `Edit ${name}` }).waitFor();
    await page.getByLabel('Baseline nights').focus();
    await page.keyboard.press('Control+A');
    await page.keyboard.type('3');
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { name: 'New schedule' }).waitFor();
    expect((await farm.api.request<ScheduleView>('GET', `/api/schedules/${created.id}`)).body).toMatchObject({ baselineNights: 3, cron: '30 2 * * *', template: { devices: { tags: [farm.tag] } } });
    expect(await unnamedControls(page)).toEqual([]);
    await screenshot(tab, 'schedules');

    await page.getByRole('button', { name: `Run ${name} now` }).click();
    const ran = page.getByTestId('run-now');
    await ran.filter({ hasText: 'a new night' }).waitFor();
    await ran.getByRole('link', { name: 'its job' }).click();
    await page.waitForURL(/\/jobs\/[0-9a-f-]{36}$/);
    const jobId = page.url().split('/').pop() ?? '';
    const { rows } = await farm.db.query<{ jobId: string }>(`SELECT job_id AS "jobId" FROM schedule_runs WHERE schedule_id = $1`, [created.id]);
    expect(rows.map((r) => r.jobId)).toEqual([jobId]);
    await expect(page.getByRole('heading', { level: 1 }).textContent()).resolves.toBe(name);
    await page.getByTestId('job-status').filter({ hasText: 'finished' }).waitFor({ timeout: 60_000 });
    await farm.api.request('PATCH', `/api/schedules/${created.id}`, { enabled: false });
    expect(tab.problems.filter((p) => !/status of 400 \(Bad Request/.test(p))).toEqual([]);
  });

  it('triages an alert from the regressions page, and draws its series with the numbers the API gives', async () => {
    const schedule = (
      await farm.api.request<ScheduleView>('POST', '/api/schedules', {
        name: `slowdown-${farm.tag}`,
        cron: '0 2 * * *',
        enabled: false,
        baselineNights: 2,
        template: { name: `slowdown-${farm.tag}`, models: ['mobilenet_v2'], scenarios: ['on_device'], devices: { tags: [farm.tag] }, iterations: 40 },
      })
    ).body;
    const runNight = async (k: number): Promise<void> => {
      expect((await farm.api.request('POST', `/api/schedules/${schedule.id}/run-now`, { fireTime: night(k) })).status).toBe(201);
      await until(async () => {
        const { rows } = await farm.db.query(`SELECT 1 FROM schedule_runs WHERE schedule_id = $1 AND fire_time = $2 AND analysed_at IS NOT NULL`, [schedule.id, night(k)]);
        return rows.length > 0;
      }, 60_000, `night ${k} analysed`);
    };
    for (const k of [1, 2]) await runNight(k);
    // From now on the phone's inference takes half as long again: its agent, restarted with the change.
    await farm.stack.agents[0]?.stop();
    await farm.stack.startAgent(agentEnv({ SIM_SLOWDOWN: `low_end:inference:1.5:${new Date().toISOString()}` }));
    await until(async () => {
      const { rows } = await farm.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM devices WHERE $1 = ANY(tags) AND state = 'available'`, [farm.tag]);
      return rows[0]?.n === 1;
    }, 30_000, 'the restarted agent');
    await runNight(3);
    const [alerted] = (await farm.api.request<AlertNight[]>('GET', `/api/alerts?schedule=${schedule.id}`)).body;
    const alert = alerted?.alerts.find((a) => a.phase === 'inference');
    if (!alerted || !alert) throw new Error('no inference alert on the slowed night');
    expect([alerted.fireTime, alert.deviceModel, alert.verdict]).toEqual([night(3), LOW_END, 'regression']);

    const { page } = tab;
    await page.goto(url('/regressions'));
    // Found by its name: other suites' schedules may have alerts on the same night.
    const section = page.getByRole('region', { name: `slowdown-${farm.tag}, night of 2026-10-03 02:00 (UTC)` });
    await section.waitFor();
    expect(await section.getAttribute('data-night')).toBe(night(3));
    const row = section.locator(`tr[data-alert="${alert.id}"]`);
    const rowText = (await row.textContent()) ?? '';
    for (const figure of [formatFigure(alert.baseline.median), formatFigure(alert.current.median), formatPercent(alert.changePct), 'regression', 'new', 'simulated']) expect(rowText).toContain(figure);
    expect(await unnamedControls(page)).toEqual([]);

    // Triage by keyboard: the state, a note, the button.
    const series = `${LOW_END} · mobilenet_v2 · on_device · inference`;
    await row.getByLabel(`Triage state of ${series}`).selectOption('acknowledged');
    await row.getByLabel(`Triage note of ${series}`).focus();
    await page.keyboard.type('a slower build, on purpose');
    await page.keyboard.press('Tab');
    await page.keyboard.press('Enter');
    await row.getByTestId('alert-state').filter({ hasText: 'acknowledged' }).waitFor();
    const triaged = (await farm.api.request<AlertNight[]>('GET', `/api/alerts?schedule=${schedule.id}&state=acknowledged`)).body.flatMap((n) => n.alerts);
    expect(triaged.map((a) => [a.id, a.note])).toEqual([[alert.id, 'a slower build, on purpose']]);
    await screenshot(tab, 'regressions');

    // The series view, from the alert's link: every night's median, the band, the alert.
    await row.getByRole('link', { name: series }).click();
    await page.waitForURL((u) => u.pathname === `/schedules/${schedule.id}/series`);
    const nights = (await farm.api.request<SeriesNight[]>('GET', `/api${seriesPath(schedule.id, alert)}`)).body;
    expect(nights.map((n) => n.fireTime)).toEqual([night(1), night(2), night(3)]);
    const table = page.getByRole('table', { name: 'Nights of the series' });
    await table.waitFor();
    for (const n of nights) {
      const text = (await table.locator(`tr[data-night="${n.fireTime}"]`).textContent()) ?? '';
      expect(text).toContain(formatFigure(n.median));
      if (n.baseline) expect(text).toContain(`${formatFigure(n.baseline.lower)}–${formatFigure(n.baseline.upper)}`);
    }
    const last = nights[2];
    expect(last?.median).toBeGreaterThan(last?.baseline?.upper ?? Infinity);
    expect(await table.locator(`tr[data-night="${night(3)}"]`).textContent()).toContain(`regression ${formatPercent(alert.changePct)} (acknowledged)`);
    await page.locator('[data-chart="series"] svg').waitFor();
    const texts = await page.locator('[data-chart="series"] svg text').allTextContents();
    expect(texts).toEqual(expect.arrayContaining(['nightly median', 'baseline', 'alert', formatPercent(alert.changePct), ...nights.map((n) => n.fireTime.slice(0, 16).replace('T', ' '))]));
    expect(await unnamedControls(page)).toEqual([]);
    await screenshot(tab, 'series');
    expect(tab.problems).toEqual([]);
  });
});
