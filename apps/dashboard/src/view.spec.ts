import type { DeviceView, RunView, SeriesNight, SummaryGroup } from '@farm/contracts';
import { fieldErrors, formatInZone, JOB_FORM_FIELDS, SCHEDULE_FORM_FIELDS, seriesChartOption, percentDone, phaseBars, runGrid, runTone, tailBars } from './view';

const group = (overrides: Partial<SummaryGroup>): SummaryGroup => ({
  deviceModel: 'Pixel 7',
  backend: 'simulated',
  model: 'mobilenet_v2',
  scenario: 'on_device',
  phase: 'inference',
  energyMethod: 'simulated',
  cold: false,
  n: 10,
  mean: 1,
  std: null,
  median: 1,
  p50: 1,
  p90: 1,
  p95: 1,
  p99: 1,
  medianCi: null,
  min: 1,
  max: 1,
  energyMj: null,
  ...overrides,
});

const run = (id: string, deviceId: string, overrides: Partial<RunView> = {}): RunView => ({
  id,
  deviceId,
  model: 'mobilenet_v2',
  scenario: 'on_device',
  status: 'queued',
  result: null,
  attempt: 1,
  errorKind: null,
  errorMessage: null,
  details: null,
  startedAt: null,
  finishedAt: null,
  ...overrides,
});

describe('fieldErrors', () => {
  it('puts each detail beside the field its path names, and the rest on the form', () => {
    expect(
      fieldErrors([
        { path: 'models[1]', message: 'unknown model "x"' },
        { path: 'devices.tags[0]', message: 'too short' },
        { path: 'devices', message: 'the selector matches no device' },
        { path: 'iterations', message: 'too small' },
        { path: 'warmup', message: 'too big' },
        { path: '', message: 'bad body' },
      ], JOB_FORM_FIELDS),
    ).toEqual({
      models: ['unknown model "x"'],
      'devices.tags': ['too short'],
      devices: ['the selector matches no device'],
      iterations: ['too small'],
      form: ['warmup: too big', 'bad body'],
    });
  });
});

describe('phaseBars', () => {
  it('stacks the medians of the phases that make up an iteration, leaving out totals, cold loads and server sub-phases', () => {
    const sut = phaseBars(
      [
        group({ phase: 'model_load', cold: true, median: 900 }),
        group({ phase: 'model_load', median: 40 }),
        group({ phase: 'inference', median: 12.5 }),
        group({ phase: 'total', median: 60 }),
        group({ scenario: 'cloud', phase: 'server', median: 30 }),
        group({ scenario: 'cloud', phase: 'server_inference', median: 20 }),
      ],
      'median',
    );
    expect(sut.categories).toEqual(['mobilenet_v2 · on_device\nPixel 7 (simulated)', 'mobilenet_v2 · cloud\nPixel 7 (simulated)']);
    expect(sut.series).toEqual([
      { name: 'model_load', values: [40, null] },
      { name: 'inference', values: [12.5, null] },
      { name: 'server', values: [null, 30] },
    ]);
  });

  it('names the energy method of real devices beside their energy, and leaves out what has none', () => {
    const sut = phaseBars(
      [
        group({ backend: 'android', energyMethod: 'battery_current_sampling', phase: 'inference', energyMj: 7 }),
        group({ backend: 'browser', deviceModel: 'Chromium', energyMethod: 'none', phase: 'inference', energyMj: null }),
      ],
      'energyMj',
    );
    expect(sut).toEqual({ categories: ['mobilenet_v2 · on_device\nPixel 7 (battery_current_sampling)'], series: [{ name: 'inference', values: [7] }] });
  });
});

describe('tailBars', () => {
  it("sets an iteration's total quantiles side by side", () => {
    const sut = tailBars([group({ phase: 'total', p50: 10, p90: 12, p95: 13, p99: 20 }), group({ phase: 'inference' })]);
    expect(sut.series).toEqual([
      { name: 'p50', values: [10] },
      { name: 'p90', values: [12] },
      { name: 'p95', values: [13] },
      { name: 'p99', values: [20] },
    ]);
  });
});

describe('runGrid', () => {
  it('lays runs out by device and (model, scenario), naming devices from the fleet', () => {
    const device = { id: 'd1', model: 'Pixel 7', serial: 's1', backend: 'simulated' } as DeviceView;
    const runs = [run('a', 'd1'), run('b', 'd1', { scenario: 'cloud' }), run('c', 'd2', { model: 'inception_v3' })];
    const sut = runGrid(runs, [device]);
    expect(sut.columns.map((c) => `${c.model}/${c.scenario}`)).toEqual(['inception_v3/on_device', 'mobilenet_v2/cloud', 'mobilenet_v2/on_device']);
    expect(sut.rows.map((r) => [r.label, r.simulated, r.cells.map((c) => c?.id)])).toEqual([
      ['d2', false, ['c', undefined, undefined]],
      ['Pixel 7 (s1)', true, [undefined, 'b', 'a']],
    ]);
  });

  it('colours a run by its status, then by its result', () => {
    expect(runTone({ status: 'running', result: null })).toBe('running');
    expect(runTone({ status: 'finished', result: 'timed_out' })).toBe('timed_out');
  });
});

describe('percentDone', () => {
  it('counts every finished run, whatever its result', () => {
    expect(percentDone({ total: 4, queued: 1, running: 0, passed: 1, failed: 1, errored: 1, cancelled: 0, timedOut: 0 })).toBe(75);
    expect(percentDone({ total: 0, queued: 0, running: 0, passed: 0, failed: 0, errored: 0, cancelled: 0, timedOut: 0 })).toBe(0);
  });
});

describe('fieldErrors on the schedule form', () => {
  it("puts the template's details beside the template's fields, and the schedule's beside its own", () => {
    expect(
      fieldErrors(
        [
          { path: 'cron', message: 'is not a cron expression' },
          { path: 'template.models[0]', message: 'unknown model "x"' },
          { path: 'template.devices.tags[1]', message: 'too short' },
          { path: 'template.warmup', message: 'too big' },
        ],
        SCHEDULE_FORM_FIELDS,
      ),
    ).toEqual({
      cron: ['is not a cron expression'],
      'template.models': ['unknown model "x"'],
      'template.devices.tags': ['too short'],
      form: ['template.warmup: too big'],
    });
  });
});

describe('formatInZone', () => {
  it("writes a time in the schedule's zone, summer and winter time alike", () => {
    expect(formatInZone('2026-07-01T00:30:00.000Z', 'Europe/Paris')).toBe('2026-07-01 02:30 (Europe/Paris)');
    expect(formatInZone('2026-12-01T01:30:00.000Z', 'Europe/Paris')).toBe('2026-12-01 02:30 (Europe/Paris)');
    expect(formatInZone('2026-12-01T23:05:00.000Z', 'UTC')).toBe('2026-12-01 23:05 (UTC)');
  });
});

describe('seriesChartOption', () => {
  const night = (fireTime: string, median: number, baseline: number | null, alerts: SeriesNight['alerts'] = []): SeriesNight => ({
    fireTime,
    jobIds: ['j'],
    n: 40,
    median,
    baseline: baseline === null ? null : { median: baseline, lower: baseline * 0.95, upper: baseline * 1.05, nights: 2 },
    baselineReset: null,
    alerts,
  });

  it('draws the medians, the baseline, its band stacked from the lower edge, and the alerted nights', () => {
    const sut = seriesChartOption([
      night('2026-10-01T02:00:00.000Z', 100, null),
      night('2026-10-02T02:00:00.000Z', 101, 100),
      night('2026-10-03T02:00:00.000Z', 120, 100, [{ id: 'a', verdict: 'regression', state: 'new', changePct: 19.5 }]),
    ]) as { xAxis: { data: string[] }; series: { name: string; data: unknown[] }[] };
    expect(sut.xAxis.data).toEqual(['2026-10-01 02:00', '2026-10-02 02:00', '2026-10-03 02:00']);
    const data = Object.fromEntries(sut.series.map((s) => [s.name, s.data]));
    expect(data['nightly median']).toEqual([100, 101, 120]);
    expect(data['baseline']).toEqual([null, 100, 100]);
    expect(data['band']).toEqual([null, 95, 95]);
    expect(data['band of no change']).toEqual([null, expect.closeTo(10), expect.closeTo(10)]);
    expect(data['alert']).toEqual([['2026-10-03 02:00', 120]]);
  });
});
