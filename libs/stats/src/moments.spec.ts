import fc from 'fast-check';
import { mean, std, variance } from './moments';

/** NIST StRD NumAcc2–4: the first value, then 500 pairs (low, high); certified mean mid, sd 0.1. */
function numAcc(first: number, low: number, high: number): number[] {
  return [first, ...Array.from({ length: 500 }, () => [low, high]).flat()];
}

describe('mean, variance and std', () => {
  // Certified values of the NIST Statistical Reference Datasets, univariate summary statistics
  // (itl.nist.gov/div898/strd/univ): NumAcc1 mean 10000002, sd 1; NumAcc2–4 mean 1.2, 1000000.2
  // and 10000000.2, sd 0.1 each.
  it('reproduces the NIST StRD certified values', () => {
    const numAcc1 = [10000001, 10000003, 10000002];
    expect(mean(numAcc1)).toBe(10000002);
    expect(std(numAcc1)).toBe(1);
    expect(mean(numAcc(1.2, 1.1, 1.3))).toBeCloseTo(1.2, 14);
    expect(std(numAcc(1.2, 1.1, 1.3))).toBeCloseTo(0.1, 13);
    // At 1e6 and 1e7 the data themselves carry ~1e-10 and ~1e-9 of representation error, so the
    // certified 0.1 can be met to 8–9 digits at best (a one-pass formula gets none right).
    expect(mean(numAcc(1000000.2, 1000000.1, 1000000.3))).toBeCloseTo(1000000.2, 9);
    expect(std(numAcc(1000000.2, 1000000.1, 1000000.3))).toBeCloseTo(0.1, 9);
    expect(mean(numAcc(10000000.2, 10000000.1, 10000000.3))).toBeCloseTo(10000000.2, 8);
    expect(std(numAcc(10000000.2, 10000000.1, 10000000.3))).toBeCloseTo(0.1, 8);
  });

  it('agrees with the definitions on small integers, where they are exact', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: -1000, max: 1000 }), { minLength: 2, maxLength: 50 }), (values) => {
        const m = values.reduce((s, v) => s + v, 0) / values.length;
        const ss = values.reduce((s, v) => s + (v - m) ** 2, 0);
        expect(mean(values)).toBeCloseTo(m, 9);
        expect(variance(values)).toBeCloseTo(ss / (values.length - 1), 6);
        expect(variance(values)).toBeGreaterThanOrEqual(0);
      }),
    );
  });

  it('handles the edges: one value has a mean but no sample variance, a constant sample varies by 0', () => {
    expect(mean([4.5])).toBe(4.5);
    expect(variance([3, 3, 3])).toBe(0);
    expect(variance([1, 2, 3, 4])).toBeCloseTo(5 / 3, 15);
    expect(() => variance([4.5])).toThrow(/^values: needs at least 2 values, got 1/);
    expect(() => std([4.5])).toThrow(/^values:/);
  });

  it('names the argument it refuses', () => {
    expect(() => mean([])).toThrow(/^values: needs at least 1 value, got 0/);
    expect(() => mean([1, NaN])).toThrow(/^values\[1\]:/);
    expect(() => variance([1, -Infinity])).toThrow(/^values\[1\]:/);
  });
});
