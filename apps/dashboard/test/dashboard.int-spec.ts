import { randomUUID } from 'node:crypto';
import type { ApiError, DeviceView, JobSpecInput, JobSummary, StudyAnswer } from '@farm/contracts';
import { until, type TestFarm } from '../../api/test/support';
import { formatFigure, phaseBars } from '../src/view';
import { dashboardSuite, screenshot as save, unnamedControls, type Tab } from './browser';

/**
 * The dashboard in headless Chromium against the real API (which builds and serves it) and an
 * agent with a simulated fleet.
 */
describe('dashboard', () => {
  const suite = dashboardSuite([{ name: 'dash', env: { SIM_DEVICES: '3', SIM_TIME_SCALE: '0.5' } }]);
  let farm: TestFarm;
  let tab: Tab;
  beforeEach(() => ({ farm, tab } = suite));
  const url = (p: string): string => `${farm.stack.apiUrl}${p}`;
  const job = (spec: Partial<JobSpecInput> = {}) =>
    farm.api.submit({ name: 'dash', models: ['mobilenet_v2'], scenarios: ['on_device', 'cloud'], devices: { tags: [farm.tag] }, iterations: 5, ...spec });
  const get = async <T>(p: string): Promise<T> => (await farm.api.request<T>('GET', p)).body;
  const screenshot = (name: string): Promise<Buffer> => save(tab, name);

  it('is served at / and at every page path, while everything under /api stays the API', async () => {
    for (const page of ['/', '/devices', `/jobs/${randomUUID()}`]) {
      const response = await fetch(url(page), { headers: { accept: 'text/html' } });
      expect([page, response.status, response.headers.get('content-type')]).toEqual([page, 200, 'text/html; charset=utf-8']);
      expect(await response.text()).toContain('<div id="root"></div>');
    }
    for (const api of ['/api', '/api/nothing-here', `/api/jobs/${randomUUID()}`]) {
      const response = await fetch(url(api), { headers: { accept: 'text/html', ...farm.auth } });
      expect([api, response.status, response.headers.get('content-type')]).toEqual([api, 404, 'application/json; charset=utf-8']);
    }
  });

  it("serves Bull Board at /admin/queues, past the dashboard's catch-all, with the schedules queue and every device's queue", async () => {
    expect((await fetch(url('/admin/queues'), { headers: { accept: 'text/html' } })).status).toBe(401);
    const board = await fetch(url('/admin/queues'), { headers: { accept: 'text/html', ...farm.auth } });
    expect(board.status).toBe(200);
    const html = await board.text();
    expect(html).toContain('<base href="/admin/queues/"');
    expect(html).not.toContain('<script type="module" crossorigin src="/assets/');
    const devices = await get<DeviceView[]>(`/api/devices?tag=${farm.tag}`);
    const { queues } = (await (await fetch(url('/admin/queues/api/queues'), { headers: farm.auth })).json()) as { queues: { name: string; readOnlyMode: boolean; description?: string }[] };
    const names = queues.map((q) => q.name);
    expect(names).toContain('schedules');
    for (const device of devices) {
      const queue = queues.find((q) => q.name === `device.${device.id}`);
      expect(queue).toMatchObject({ readOnlyMode: true, description: expect.stringContaining(device.serial) });
    }
  });

  it('updates the job list and the devices page live, from the farm\'s event stream, without reloading or polling', async () => {
    const { page } = tab;
    const listReads: string[] = [];
    const streams: string[] = [];
    page.on('request', (request) => {
      const { pathname } = new URL(request.url());
      if (pathname === '/api/jobs' || pathname === '/api/devices') listReads.push(pathname);
      if (pathname === '/api/events') streams.push(pathname);
    });
    await page.goto(url('/'));
    await page.getByRole('table').filter({ hasText: 'Progress' }).waitFor();
    await page.evaluate(() => Object.assign(window, { sameDocument: true }));
    // Submitted elsewhere: the page learns of it from the stream, reads the list once, and follows it to the end.
    const submitted = await job({ name: 'dash-elsewhere', iterations: 20 });
    const row = page.locator(`tr[data-job="${submitted.id}"]`);
    await row.waitFor({ timeout: 30_000 });
    const seen = new Set<string>();
    await until(async () => {
      const text = (await row.textContent()) ?? '';
      seen.add(text);
      return text.includes('finished') && text.includes('6/6');
    }, 60_000, 'the new job to show as finished in the list');
    expect(seen.size).toBeGreaterThan(1);
    expect(await page.evaluate(() => (window as unknown as { sameDocument?: boolean }).sameDocument)).toBe(true);
    expect(listReads).toEqual(['/api/jobs', '/api/jobs']);
    expect(streams).toEqual(['/api/events']);

    // A device quarantined elsewhere shows so on the devices page, and released, so again.
    const [device] = await get<DeviceView[]>(`/api/devices?tag=${farm.tag}`);
    if (!device) throw new Error('the farm has no device');
    await page.getByRole('link', { name: 'Devices' }).click();
    const deviceRow = page.locator(`tr[data-serial="${device.serial}"]`);
    await deviceRow.waitFor();
    await farm.api.request('POST', `/api/devices/${device.id}/quarantine`, { reason: 'dropped on the floor' });
    await deviceRow.filter({ hasText: 'dropped on the floor' }).waitFor({ timeout: 10_000 });
    await farm.api.request('POST', `/api/devices/${device.id}/release`, {});
    await deviceRow.filter({ hasText: 'available' }).waitFor({ timeout: 10_000 });
    expect(await page.evaluate(() => (window as unknown as { sameDocument?: boolean }).sameDocument)).toBe(true);
    expect(listReads.filter((p) => p === '/api/devices')).toEqual(['/api/devices']);
    expect(tab.problems).toEqual([]);
  });

  it('submits a job from the form and shows it finish live, through server-sent events, without reloading', async () => {
    const { page } = tab;
    const jobReads: string[] = [];
    const eventStreams: string[] = [];
    page.on('request', (request) => {
      if (/\/api\/jobs\/[0-9a-f-]{36}(\?.*)?$/.test(request.url())) jobReads.push(request.url());
      if (/\/api\/jobs\/[0-9a-f-]{36}\/events$/.test(request.url())) eventStreams.push(request.url());
    });
    await page.goto(url('/'));
    await page.getByLabel('Name').fill('dash-live');
    await page.getByRole('checkbox', { name: 'mobilenet_v2', exact: true }).check();
    await page.getByRole('checkbox', { name: 'cloud' }).check();
    await page.getByLabel('Backend').selectOption('simulated');
    await page.getByLabel('Tags (comma-separated)').fill(farm.tag);
    await page.getByLabel('Iterations').fill('10');
    expect(await unnamedControls(page)).toEqual([]);
    await screenshot('jobs-form');
    await page.evaluate(() => Object.assign(window, { sameDocument: true }));
    await page.getByRole('button', { name: 'Submit job' }).click();

    await page.waitForURL(/\/jobs\/[0-9a-f-]{36}$/);
    const jobId = page.url().split('/').pop() ?? '';
    const seen = new Set<string>();
    const progress = page.getByTestId('job-progress');
    await until(async () => {
      seen.add((await progress.textContent()) ?? '');
      return (await page.getByTestId('job-status').textContent()) === 'finished';
    }, 60_000, 'the job to show as finished');
    expect(await progress.textContent()).toContain('6/6 (100%)');
    expect(await page.getByRole('progressbar', { name: 'Job progress' }).getAttribute('value')).toBe('100');
    // It moved on the page while the runs ran, and the page was never reloaded nor polled.
    expect(seen.size).toBeGreaterThan(1);
    expect(await page.evaluate(() => (window as unknown as { sameDocument?: boolean }).sameDocument)).toBe(true);
    expect(jobReads).toEqual([url(`/api/jobs/${jobId}?runs=false`)]);
    expect(eventStreams).toEqual([url(`/api/jobs/${jobId}/events`)]);

    const cells = page.locator('table.grid td.run');
    expect(await cells.allTextContents()).toEqual(Array(6).fill('passed'));
    expect(await page.locator('table.grid .tag').allTextContents()).toEqual(Array(3).fill('simulated'));
    expect((await get<{ status: string }>(`/api/jobs/${jobId}`)).status).toBe('finished');
    await page.locator('[data-chart="phases"] svg').waitFor();
    await screenshot('job-detail');
    expect(tab.problems).toEqual([]);
  });

  it("charts the summary's medians and tabulates the study, as the API computes them", async () => {
    const { page } = tab;
    const submitted = await job({ name: 'dash-chart' });
    await farm.api.waitForJob(submitted.id, { timeoutMs: 60_000 });
    const summary = await get<JobSummary>(`/api/jobs/${submitted.id}/summary`);
    const study = await get<StudyAnswer>(`/api/jobs/${submitted.id}/study`);

    // A first load of a page path: the API answers it with the dashboard.
    await page.goto(url(`/jobs/${submitted.id}`));
    const chartTexts = async (chart: string): Promise<string[]> => {
      await page.locator(`[data-chart="${chart}"] svg`).waitFor();
      return page.locator(`[data-chart="${chart}"] svg text`).allTextContents();
    };
    for (const [chart, bars] of [
      ['phases', phaseBars(summary.groups, 'median')],
      ['energy', phaseBars(summary.groups, 'energyMj')],
    ] as const) {
      const texts = await chartTexts(chart);
      expect(bars.categories.length).toBe(new Set(summary.groups.map((g) => `${g.deviceModel}/${g.model}/${g.scenario}`)).size);
      for (const s of bars.series) {
        expect(texts).toContain(s.name);
        for (const value of s.values) if (value !== null) expect(texts).toContain(formatFigure(value));
      }
      expect(texts.join(' ')).toContain('(simulated)');
    }
    expect(await chartTexts('tail')).toEqual(expect.arrayContaining(['p50', 'p90', 'p95', 'p99']));

    const pair = study.pairs[0];
    if (!pair?.ratio || !pair.onDevice || !pair.cloud) throw new Error('the study has no on-device versus cloud pair');
    const row = page.getByRole('table', { name: 'On-device versus cloud' }).getByRole('row').filter({ hasText: pair.deviceModel });
    const rowText = await row.first().textContent();
    for (const figure of [pair.ratio.estimate.toFixed(2), formatFigure(pair.onDevice.medianTotalMs), formatFigure(pair.cloud.medianTotalMs), pair.onDevice.bottleneck, pair.cloud.bottleneck, 'simulated']) {
      expect(rowText).toContain(figure);
    }
    const csv = page.getByRole('link', { name: 'Download measurements (CSV)' });
    expect(await csv.getAttribute('href')).toBe(`/api/jobs/${submitted.id}/measurements.csv`);
    expect((await fetch(url(`/api/jobs/${submitted.id}/measurements.csv`), { headers: farm.auth })).status).toBe(200);
    expect(tab.problems).toEqual([]);
  });

  it("shows the API's 400 and 422 messages beside the fields they name", async () => {
    const { page } = tab;
    await page.goto(url('/'));
    await page.getByRole('checkbox', { name: 'on_device' }).uncheck();
    await page.getByLabel('Iterations').fill('0');
    await page.getByRole('button', { name: 'Submit job' }).click();
    const bad = await farm.api.request<ApiError>('POST', '/api/jobs', { name: '', models: [], scenarios: [], devices: {}, iterations: 0 });
    expect(bad.status).toBe(400);
    for (const field of ['name', 'models', 'scenarios', 'iterations']) {
      const messages = bad.body.details.filter((d) => d.path.replace(/\[\d+\]/, '') === field).map((d) => d.message);
      expect(messages.length).toBeGreaterThan(0);
      await expect(page.locator(`#error-${field}`).textContent()).resolves.toBe(messages.join(''));
    }
    expect(await page.getByLabel('Name').getAttribute('aria-invalid')).toBe('true');
    expect(await page.getByLabel('Name').getAttribute('aria-describedby')).toBe('error-name');
    await screenshot('jobs-form-errors');

    await page.getByLabel('Name').fill('dash-nothing');
    await page.getByRole('checkbox', { name: 'mobilenet_v2', exact: true }).check();
    await page.getByRole('checkbox', { name: 'on_device' }).check();
    await page.getByLabel('Tags (comma-separated)').fill('no-such-tag');
    await page.getByLabel('Iterations').fill('1');
    await page.getByRole('button', { name: 'Submit job' }).click();
    await expect(page.locator('#error-devices').textContent()).resolves.toBe('the selector matches no device that is available or busy');
    await expect(page.locator('#error-name').count()).resolves.toBe(0);
    expect(page.url()).toBe(url('/'));
    // The browser reports each 4xx answer; nothing else may show in the console.
    expect(tab.problems.filter((p) => !/status of (400|422) \(Bad Request|Unprocessable/.test(p))).toEqual([]);
  });

  it('walks the new-job form by keyboard, in order, and submits it with Enter', async () => {
    const { page } = tab;
    await page.goto(url('/'));
    const models = (await get<{ name: string }[]>('/api/models')).map((m) => m.name);
    await page.getByRole('checkbox', { name: models[0], exact: true }).waitFor();
    const focused = (): Promise<string> =>
      page.evaluate(() => {
        const e = document.activeElement as HTMLInputElement | null;
        // A label holds its control: a select's options are not part of its name.
        const label = e?.labels?.[0]?.textContent?.replace(e.textContent ?? '', '');
        const name = e?.getAttribute('aria-label') ?? label ?? e?.textContent ?? '';
        return `${e?.tagName.toLowerCase() ?? ''}:${name.trim()}`;
      });
    const order: string[] = [];
    for (let i = 0; i < 20 && !order.includes('button:Submit job'); i += 1) {
      await page.keyboard.press('Tab');
      order.push(await focused());
    }
    expect(order).toEqual([
      'a:Jobs',
      'a:Devices',
      'a:Schedules',
      'a:Regressions',
      'a:API',
      'a:Queues',
      'input:Name',
      ...models.map((m) => `input:${m}`),
      'input:on_device',
      'input:cloud',
      'select:Backend',
      'input:Tags (comma-separated)',
      'input:Iterations',
      'button:Submit job',
    ]);

    await page.getByLabel('Name').focus();
    await page.keyboard.type('dash-keys');
    await page.keyboard.press('Tab');
    await page.keyboard.press('Space');
    expect(await page.getByRole('checkbox', { name: models[0], exact: true }).isChecked()).toBe(true);
    await page.getByLabel('Tags (comma-separated)').focus();
    await page.keyboard.type(farm.tag);
    await page.keyboard.press('Tab');
    await page.keyboard.press('Control+A');
    await page.keyboard.type('1');
    await page.keyboard.press('Enter');
    await page.waitForURL(/\/jobs\/[0-9a-f-]{36}$/);
    // The address changes first; the job's page replaces the list's once the job is read.
    await page.getByRole('heading', { level: 1, name: 'dash-keys', exact: true }).waitFor();
    expect(tab.problems).toEqual([]);
  });

  it('cancels a job from its page, and filters the job list by status', async () => {
    const { page } = tab;
    const long = await job({ name: 'dash-cancel', iterations: 2_000 });
    await page.goto(url(`/jobs/${long.id}`));
    await page.getByRole('button', { name: 'Cancel job' }).click();
    await page.getByTestId('job-status').filter({ hasText: 'cancelled' }).waitFor({ timeout: 30_000 });
    expect(await page.getByRole('button', { name: 'Cancel job' }).isDisabled()).toBe(true);

    await page.getByRole('link', { name: 'Jobs' }).click();
    await page.getByLabel('Status').selectOption('cancelled');
    await page.getByRole('link', { name: 'dash-live' }).waitFor({ state: 'detached' });
    await page.getByRole('link', { name: 'dash-cancel' }).waitFor();
    await page.getByLabel('Status').selectOption('');
    await page.getByRole('link', { name: 'dash-live' }).waitFor();
    expect(await unnamedControls(page)).toEqual([]);
    await screenshot('jobs');
    expect(tab.problems).toEqual([]);
  });

  it('quarantines a device with a reason and releases it from the Devices page', async () => {
    const { page } = tab;
    const [device] = await get<DeviceView[]>(`/api/devices?tag=${farm.tag}`);
    if (!device) throw new Error('the farm has no device');
    const state = async (): Promise<DeviceView> => get<DeviceView>(`/api/devices/${device.id}`);
    await until(async () => (await state()).state === 'available', 60_000, 'the device to be free');

    await page.goto(url('/'));
    await page.getByRole('link', { name: 'Devices' }).click();
    const row = page.locator(`tr[data-serial="${device.serial}"]`);
    expect(await row.textContent()).toContain('simulated');
    await page.getByLabel(`Reason to quarantine ${device.serial}`).fill('cracked screen');
    await page.getByRole('button', { name: `Quarantine ${device.serial}` }).click();
    await page.getByRole('button', { name: `Release ${device.serial}` }).waitFor();
    expect(await row.textContent()).toContain('cracked screen');
    expect(await state()).toMatchObject({ state: 'quarantined', quarantine: { reason: expect.stringContaining('cracked screen') } });
    expect(await unnamedControls(page)).toEqual([]);
    await screenshot('devices');

    await page.getByRole('button', { name: `Release ${device.serial}` }).click();
    await page.getByRole('button', { name: `Quarantine ${device.serial}` }).waitFor();
    expect((await state()).state).toBe('available');
    expect(tab.problems).toEqual([]);
  });
});
