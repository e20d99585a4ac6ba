import type { DeviceView, RunView, SummaryGroup } from '@farm/contracts';
import { fieldErrors, JOB_FORM_FIELDS, percentDone, phaseBars, runGrid, runTone, tailBars } from './view';

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
