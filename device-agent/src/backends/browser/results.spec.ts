import type { Measurement, Phase } from '@farm/contracts';
import { parseOsRelease } from './host-info';
import { checkBenchResult } from './results';

const row = (iteration: number, phase: Phase, durationMs: number, warmup = iteration === 1): Measurement => ({ iteration, warmup, phase, durationMs, energyMj: null, energyMethod: 'none' });

function onDeviceResult(measurements: Measurement[]): Record<string, unknown> {
  return {
    version: '0.1.0+abc',
    backend: 'wasm',
    tfjsVersion: '4.22.0',
    userAgent: 'HeadlessChrome',
    crossOriginIsolated: true,
    timerResolutionMs: 0.005,
    wasm: { simd: true, threads: false },
    model: 'mobilenet_v2',
    scenario: 'on_device',
    params: { model: 'mobilenet_v2', scenario: 'on_device', iterations: 1, warmup: 1, images: ['a.jpg'] },
    measurements,
    timeOrigin: 1_767_225_600_000,
    // Back to back on the page's timeline: each phase starts where the one before it ended.
    phaseStarts: measurements.map((_, i) => measurements.slice(0, i).reduce((t, m) => t + m.durationMs, 0)),
    top1: [{ iteration: 1, image: 'a.jpg', className: 'Neutral', probability: 0.9 }],
    modelLoad: { backendInitMs: 10, fetchMs: 20, buildMs: 30, verifyMs: null },
    cloudSplit: null,
    startedAt: '2026-01-01T00:00:00.000Z',
    finishedAt: '2026-01-01T00:00:01.000Z',
  };
}

const good = (): Measurement[] => [
  row(0, 'model_load', 60),
  ...[1, 2].flatMap((i) => [row(i, 'preprocess', 1.5), row(i, 'inference', 40.25), row(i, 'postprocess', 0.03), row(i, 'total', 41.78)]),
];
const assignment = { model: 'mobilenet_v2', scenario: 'on_device' as const, iterations: 1, warmup: 1 };

describe('checkBenchResult', () => {
  it('returns the rows of a result that matches the run', () => {
    const { rows, result } = checkBenchResult(onDeviceResult(good()), assignment);
    expect(rows).toHaveLength(9);
    expect(result.modelLoad).toEqual({ backendInitMs: 10, fetchMs: 20, buildMs: 30, verifyMs: null });
  });

  it.each<[string, (m: Measurement[]) => Measurement[], RegExp]>([
    ['a missing phase', (m) => m.filter((r) => !(r.iteration === 2 && r.phase === 'postprocess')), /8 of 9 expected rows/],
    ['a duplicate row', (m) => [...m, m[1]], /duplicate row: iteration 1, phase preprocess/],
    ['a row of another scenario', (m) => [...m, row(1, 'upload', 1)], /unexpected row: iteration 1, phase upload/],
    ['a wrong warm-up flag', (m) => m.map((r) => (r.iteration === 2 ? { ...r, warmup: true } : r)), /iteration 2 has the wrong warm-up flag/],
    ['an energy figure', (m) => m.map((r) => ({ ...r, energyMj: 1, energyMethod: 'cpu_time_model' as const })), /energyMethod none/],
    ['phases that do not add up', (m) => m.map((r) => (r.iteration === 2 && r.phase === 'total' ? { ...r, durationMs: 43 } : r)), /iteration 2: phases add up to 41\.780 ms but total is 43\.000 ms/],
    ['a negative duration', (m) => m.map((r) => (r.phase === 'inference' ? { ...r, durationMs: -1 } : r)), /measurements\.\d+\.durationMs/],
  ])('refuses %s', (_, change, message) => {
    expect(() => checkBenchResult(onDeviceResult(change(good())), assignment)).toThrow(message);
  });

  it('refuses a result for another run', () => {
    expect(() => checkBenchResult(onDeviceResult(good()), { ...assignment, model: 'inception_v3' })).toThrow(/ran mobilenet_v2\/on_device, not inception_v3\/on_device/);
    expect(() => checkBenchResult(onDeviceResult(good()), { ...assignment, iterations: 5 })).toThrow(/1\+1 iterations, not 1\+5/);
    expect(() => checkBenchResult(null, assignment)).toThrow(/does not match the contract/);
  });

  it('refuses phase starts that do not pair with the measurements', () => {
    const result = { ...onDeviceResult(good()), phaseStarts: [0, 1] };
    expect(() => checkBenchResult(result, assignment)).toThrow('the page gave 2 phase starts for 9 measurements');
  });
});

describe('parseOsRelease', () => {
  it('reads KEY=value lines, quoted or not', () => {
    expect(parseOsRelease('PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nVERSION_ID="12"\nID=debian\n# comment\n')).toEqual({
      PRETTY_NAME: 'Debian GNU/Linux 12 (bookworm)',
      VERSION_ID: '12',
      ID: 'debian',
    });
  });
});
