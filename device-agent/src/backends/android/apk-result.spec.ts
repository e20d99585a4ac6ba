import { parseApkResult, toMeasurements, type ApkResult } from './apk-result';
import { screenAwake } from './android.backend';

const RUN = { runId: 'run-1', attempt: 2, scenario: 'on_device' as const };

function result(overrides: Partial<ApkResult> = {}): ApkResult {
  return {
    farmBench: 1,
    runId: 'run-1',
    attempt: 2,
    model: 'mobilenet_v2',
    scenario: 'on_device',
    runtime: { name: 'tflite', delegate: 'gpu' },
    phases: [
      { iteration: 0, warmup: false, phase: 'model_load', startMs: 1000, endMs: 1300 },
      { iteration: 1, warmup: false, phase: 'preprocess', startMs: 1300, endMs: 1310 },
      { iteration: 1, warmup: false, phase: 'inference', startMs: 1310, endMs: 1350 },
      { iteration: 1, warmup: false, phase: 'postprocess', startMs: 1350, endMs: 1352 },
      { iteration: 1, warmup: false, phase: 'total', startMs: 1300, endMs: 1352 },
    ],
    top1: { className: 'neutral', probability: 0.9 },
    error: null,
    ...overrides,
  };
}

describe('parseApkResult', () => {
  it('accepts a result that follows the contract for the run it answers', () => {
    expect(parseApkResult(JSON.stringify(result()), RUN)).toEqual(result());
  });

  it('says what is wrong with a result it refuses', () => {
    const refuse = (text: string, why: RegExp) => expect(parseApkResult(text, RUN)).toMatch(why);
    refuse('{"farmBench": 1', /not JSON/);
    refuse(JSON.stringify({ ...result(), farmBench: 2 }), /contract at farmBench/);
    refuse(JSON.stringify({ ...result(), phases: [{ iteration: 1, warmup: false, phase: 'think', startMs: 0, endMs: 1 }] }), /contract at phases\.0\.phase/);
    refuse(JSON.stringify(result({ runId: 'run-9' })), /for run run-9 attempt 2, not run-1 attempt 2/);
    refuse(JSON.stringify(result({ scenario: 'cloud', phases: [] })), /scenario cloud, not on_device/);
    refuse(JSON.stringify(result({ phases: [{ iteration: 1, warmup: false, phase: 'upload', startMs: 0, endMs: 1 }] })), /upload is not a phase of on_device/);
    refuse(JSON.stringify(result({ phases: [{ iteration: 1, warmup: false, phase: 'inference', startMs: 5, endMs: 4 }] })), /ends before it starts/);
    refuse(JSON.stringify(result({ phases: [{ iteration: 1, warmup: false, phase: 'inference', startMs: 5, endMs: 6 }] })), /iterations without a total: 1/);
  });
});

describe('toMeasurements', () => {
  it('gives each phase its energy from the battery trace: a linear current integrates exactly', () => {
    // I(t) = 200 + 0.1·t mA at 4000 mV: P(t) = 800 + 0.4·t mW, so E over [a, b] = 800(b − a) + 0.2(b² − a²) µJ.
    const samples = [900, 1100, 1250, 1400].map((tMs) => ({ tMs, currentMa: 200 + 0.1 * tMs, voltageMv: 4000 }));
    const energy = (a: number, b: number) => (800 * (b - a) + 0.2 * (b * b - a * a)) / 1000;
    const { rows, note } = toMeasurements(result().phases, { samples });
    expect(note).toEqual({ method: 'battery_current_sampling', samples: 4, samplingHz: 6, estimate: false });
    expect(rows.map((r) => [r.phase, r.durationMs, r.energyMethod])).toEqual([
      ['model_load', 300, 'battery_current_sampling'],
      ['preprocess', 10, 'battery_current_sampling'],
      ['inference', 40, 'battery_current_sampling'],
      ['postprocess', 2, 'battery_current_sampling'],
      ['total', 52, 'battery_current_sampling'],
    ]);
    const expected = [energy(1000, 1300), energy(1300, 1310), energy(1310, 1350), energy(1350, 1352), energy(1300, 1352)];
    rows.forEach((r, i) => expect(r.energyMj).toBeCloseTo(expected[i] ?? NaN, 9));
  });

  it('charges no energy to the server sub-phases, which the `server` wait already holds', () => {
    const cloud = result({
      scenario: 'cloud',
      phases: [
        { iteration: 1, warmup: false, phase: 'server', startMs: 100, endMs: 200 },
        { iteration: 1, warmup: false, phase: 'server_inference', startMs: 120, endMs: 180 },
        { iteration: 1, warmup: false, phase: 'total', startMs: 100, endMs: 200 },
      ],
    });
    const samples = [0, 300].map((tMs) => ({ tMs, currentMa: 100, voltageMv: 4000 }));
    expect(toMeasurements(cloud.phases, { samples }).rows.map((r) => [r.phase, r.energyMj])).toEqual([
      ['server', 40],
      ['server_inference', null],
      ['total', 40],
    ]);
  });

  it('stores no energy without a trace, and says why', () => {
    const { rows, note } = toMeasurements(result().phases, { reason: 'the phone was charging' });
    expect(rows.every((r) => r.energyMj === null && r.energyMethod === 'none')).toBe(true);
    expect(note).toEqual({ method: 'none', reason: 'the phone was charging' });
  });
});

describe('screenAwake', () => {
  it('reads mWakefulness from dumpsys power', () => {
    expect(screenAwake('Power Manager State:\n  mWakefulness=Awake\n')).toBe(true);
    expect(screenAwake('  mWakefulness=Asleep\n')).toBe(false);
    expect(() => screenAwake('nothing here')).toThrow('no mWakefulness line');
  });
});
