import { integrateEnergy, samplingRateHz, type PowerSample } from './energy';

const trace: PowerSample[] = [
  { tMs: 0, currentMa: 100, voltageMv: 4000 }, // 400 mW
  { tMs: 100, currentMa: 200, voltageMv: 4000 }, // 800 mW
  { tMs: 200, currentMa: 100, voltageMv: 3900 }, // 390 mW
];

describe('integrateEnergy', () => {
  it('integrates P = I·V by the trapezoidal rule, in mJ', () => {
    // (400 + 800) / 2 mW × 0.1 s = 60 mJ
    expect(integrateEnergy(trace, [{ startMs: 0, endMs: 100 }])[0]).toEqual({ energyMj: 60, samplesInside: 0 });
  });

  it('interpolates the power at interval ends that fall between samples', () => {
    // P(50) = 600 mW, P(100) = 800 mW, P(150) = 595 mW:
    // (600 + 800) / 2 × 0.05 s + (800 + 595) / 2 × 0.05 s = 35 + 34.875 = 69.875 mJ
    const [energy] = integrateEnergy(trace, [{ startMs: 50, endMs: 150 }]);
    expect(energy?.energyMj).toBeCloseTo(69.875, 9);
    expect(energy?.samplesInside).toBe(1);
  });

  it('gives a constant 4 W over 250 ms as 1 J, and a zero-length phase as nothing', () => {
    const flat = [0, 50, 100, 150, 200, 250].map((tMs) => ({ tMs, currentMa: 1000, voltageMv: 4000 }));
    const [whole, instant] = integrateEnergy(flat, [
      { startMs: 0, endMs: 250 },
      { startMs: 120, endMs: 120 },
    ]);
    expect(whole?.energyMj).toBeCloseTo(1000, 9);
    expect(instant?.energyMj).toBe(0);
  });

  it('adds up: phases that tile an interval sum to its energy', () => {
    const phases = [
      { startMs: 10, endMs: 70 },
      { startMs: 70, endMs: 130 },
      { startMs: 130, endMs: 190 },
    ];
    const parts = integrateEnergy(trace, phases).reduce((sum, e) => sum + e.energyMj, 0);
    expect(parts).toBeCloseTo(integrateEnergy(trace, [{ startMs: 10, endMs: 190 }])[0]?.energyMj ?? NaN, 9);
  });

  it('refuses what it cannot integrate honestly, saying why', () => {
    expect(() => integrateEnergy(trace.slice(0, 1), [])).toThrow('at least two power samples, got 1');
    expect(() => integrateEnergy([trace[1], trace[0]] as PowerSample[], [])).toThrow('strictly increasing time order (sample 1)');
    expect(() => integrateEnergy(trace, [{ startMs: 150, endMs: 250 }])).toThrow('interval 0 (150–250 ms) is not covered by the power samples (0–200 ms)');
    expect(() => integrateEnergy(trace, [{ startMs: 90, endMs: 80 }])).toThrow('interval 0 ends (80 ms) before it starts (90 ms)');
  });
});

describe('samplingRateHz', () => {
  it('counts samples per second over the trace', () => {
    expect(samplingRateHz(trace)).toBe(10);
    expect(samplingRateHz(trace.slice(0, 1))).toBe(0);
  });
});
