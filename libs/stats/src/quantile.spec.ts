import fc from 'fast-check';
import { median, quantile, quantiles } from './quantile';

/** Type 7 as Hyndman & Fan write it, 1-based: j = ⌊1 + (n − 1)p⌋, γ = 1 + (n − 1)p − j, (1 − γ)·x(j) + γ·x(j+1). */
function naiveType7(values: number[], p: number): number {
  const x = [...values].sort((l, r) => l - r);
  const position = 1 + (x.length - 1) * p;
  const j = Math.floor(position);
  const gamma = position - j;
  return (1 - gamma) * x[j - 1] + gamma * x[Math.min(j, x.length - 1)];
}

const sample = fc.array(fc.double({ min: -1e6, max: 1e6, noNaN: true }), { minLength: 1, maxLength: 40 });
const probability = fc.double({ min: 0, max: 1, noNaN: true });

describe('quantile (Hyndman & Fan type 7)', () => {
  it('agrees with the textbook formula on random samples', () => {
    fc.assert(
      fc.property(sample, probability, (values, p) => {
        const scale = Math.max(1, ...values.map(Math.abs));
        expect(Math.abs(quantile(values, p) - naiveType7(values, p))).toBeLessThanOrEqual(1e-12 * scale);
      }),
    );
  });

  it('never decreases as p grows, and stays between the minimum and the maximum', () => {
    fc.assert(
      fc.property(sample, probability, probability, (values, p1, p2) => {
        const [lo, hi] = p1 <= p2 ? [p1, p2] : [p2, p1];
        expect(quantile(values, lo)).toBeLessThanOrEqual(quantile(values, hi));
        expect(quantile(values, lo)).toBeGreaterThanOrEqual(Math.min(...values));
        expect(quantile(values, hi)).toBeLessThanOrEqual(Math.max(...values));
      }),
    );
  });

  it('gives the same as quantile at each p from one sort, leaving the input as it was', () => {
    fc.assert(
      fc.property(sample, fc.array(probability, { maxLength: 6 }), (values, ps) => {
        const before = [...values];
        expect(quantiles(values, ps)).toEqual(ps.map((p) => quantile(values, p)));
        expect(values).toEqual(before);
      }),
    );
  });

  it('matches published values', () => {
    // Excel's PERCENTILE.INC is type 7. Microsoft's example: data 1, 3, 2, 4, k = 0.3 → 1.9
    // (support.microsoft.com, "PERCENTILE.INC function").
    expect(quantile([1, 3, 2, 4], 0.3)).toBeCloseTo(1.9, 12);
    // Microsoft's QUARTILE.INC example: data 1, 2, 4, 7, 8, 9, 10, 12, first quartile → 3.5.
    expect(quantile([1, 2, 4, 7, 8, 9, 10, 12], 0.25)).toBe(3.5);
    // MESCIUS's formula reference: QUARTILE.INC({11,21,42,27,18,29,32,52},1) → 20.25.
    expect(quantile([11, 21, 42, 27, 18, 29, 32, 52], 0.25)).toBe(20.25);
    // NumPy's documentation of numpy.percentile: a = [[10, 7, 4], [3, 2, 1]], percentile(a, 50) → 3.5.
    expect(median([10, 7, 4, 3, 2, 1])).toBe(3.5);
  });

  it('handles the edges: the extremes at 0 and 1, one value, ties', () => {
    expect(quantiles([5, 1, 9], [0, 1])).toEqual([1, 9]);
    expect(quantiles([7], [0, 0.37, 1])).toEqual([7, 7, 7]);
    expect(median([2, 2, 2, 3])).toBe(2);
    expect(median([3, 1, 2])).toBe(2);
    expect(quantiles([1, 2], [])).toEqual([]);
  });

  it('names the argument it refuses', () => {
    expect(() => quantile([], 0.5)).toThrow(/^values: needs at least 1 value, got 0/);
    expect(() => quantile([1, NaN], 0.5)).toThrow(/^values\[1\]: must be a finite number, got NaN/);
    expect(() => quantile([1, Infinity], 0.5)).toThrow(/^values\[1\]: .*Infinity/);
    expect(() => quantile([1, 2], 1.5)).toThrow(/^p: must be a number in \[0, 1\]/);
    expect(() => quantile([1, 2], -0.1)).toThrow(/^p:/);
    expect(() => quantile([1, 2], NaN)).toThrow(/^p:/);
    expect(() => quantiles([1, 2], [0.5, 2])).toThrow(/^ps\[1\]:/);
    expect(() => median([])).toThrow(/^values:/);
  });
});
