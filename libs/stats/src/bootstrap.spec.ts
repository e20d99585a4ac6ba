import fc from 'fast-check';
import { bootstrapMedianCI, ratioOfMediansCI, type BootstrapOptions } from './bootstrap';
import { median } from './quantile';
import { seededRandom } from './random';

// Continuous-looking data: distinct values, as measured latencies are.
const typical = fc.uniqueArray(fc.integer({ min: 1, max: 100_000 }), { minLength: 10, maxLength: 60 }).map((xs) => xs.map((x) => x / 7));
const seed = fc.oneof(fc.integer(), fc.string());

describe('seededRandom', () => {
  it('gives the same stream for the same seed, a number seeding as its decimal string', () => {
    const draw = (s: number | string) => Array.from({ length: 5 }, seededRandom(s));
    expect(draw(42)).toEqual(draw(42));
    expect(draw(42)).toEqual(draw('42'));
    expect(draw(42)).not.toEqual(draw(43));
    expect(draw('run-7')).not.toEqual(draw('run-8'));
  });

  it('draws in [0, 1) with the mean and variance of a uniform', () => {
    const random = seededRandom('uniformity');
    const draws = Array.from({ length: 100_000 }, random);
    expect(draws.every((u) => u >= 0 && u < 1)).toBe(true);
    const m = draws.reduce((s, u) => s + u, 0) / draws.length;
    const v = draws.reduce((s, u) => s + (u - m) ** 2, 0) / draws.length;
    // Standard errors: 1/√(12·10⁵) ≈ 9e-4 for the mean, ≈ 2.7e-4 for the variance (1/12).
    expect(Math.abs(m - 0.5)).toBeLessThan(4e-3);
    expect(Math.abs(v - 1 / 12)).toBeLessThan(1.5e-3);
  });

  it('names the argument it refuses', () => {
    expect(() => seededRandom(NaN)).toThrow(/^seed: must be a finite number or a string/);
    expect(() => seededRandom(undefined as unknown as number)).toThrow(/^seed:/);
  });
});

describe('bootstrapMedianCI', () => {
  it('is reproducible: the same data and seed give the same interval', () => {
    fc.assert(
      fc.property(typical, seed, (values, s) => {
        const options = { seed: s, resamples: 200 };
        expect(bootstrapMedianCI(values, options)).toEqual(bootstrapMedianCI([...values].reverse(), options));
      }),
      { numRuns: 30 },
    );
  });

  it('contains the sample median, with lower ≤ upper, for typical data', () => {
    fc.assert(
      fc.property(typical, seed, (values, s) => {
        const ci = bootstrapMedianCI(values, { seed: s, resamples: 500 });
        expect(ci.estimate).toBe(median(values));
        expect(ci.lower).toBeLessThanOrEqual(ci.estimate);
        expect(ci.estimate).toBeLessThanOrEqual(ci.upper);
        expect(ci.lower).toBeGreaterThanOrEqual(Math.min(...values));
        expect(ci.upper).toBeLessThanOrEqual(Math.max(...values));
      }),
      { numRuns: 30 },
    );
  });

  it('widens with the confidence level and reports its settings', () => {
    const values = Array.from({ length: 40 }, (_, i) => 100 + ((i * 37) % 41));
    const narrow = bootstrapMedianCI(values, { seed: 1, confidence: 0.5 });
    const wide = bootstrapMedianCI(values, { seed: 1, confidence: 0.99 });
    expect(wide.lower).toBeLessThanOrEqual(narrow.lower);
    expect(wide.upper).toBeGreaterThanOrEqual(narrow.upper);
    expect(narrow).toMatchObject({ confidence: 0.5, resamples: 2000 });
  });

  it('handles the edges: one value, all values equal', () => {
    expect(bootstrapMedianCI([3.5], { seed: 0 })).toEqual({ estimate: 3.5, lower: 3.5, upper: 3.5, confidence: 0.95, resamples: 2000 });
    expect(bootstrapMedianCI([2, 2, 2, 2], { seed: 0, resamples: 10 })).toMatchObject({ estimate: 2, lower: 2, upper: 2 });
  });

  it('names the argument it refuses', () => {
    const ok: BootstrapOptions = { seed: 1 };
    expect(() => bootstrapMedianCI([], ok)).toThrow(/^values: needs at least 1 value/);
    expect(() => bootstrapMedianCI([1, NaN], ok)).toThrow(/^values\[1\]:/);
    expect(() => bootstrapMedianCI([1, 2], { ...ok, confidence: 1 })).toThrow(/^confidence: must be a number strictly between 0 and 1/);
    expect(() => bootstrapMedianCI([1, 2], { ...ok, confidence: 0 })).toThrow(/^confidence:/);
    expect(() => bootstrapMedianCI([1, 2], { ...ok, resamples: 2.5 })).toThrow(/^resamples: must be an integer ≥ 1/);
    expect(() => bootstrapMedianCI([1, 2], { ...ok, resamples: 0 })).toThrow(/^resamples:/);
    expect(() => bootstrapMedianCI([1, 2], { seed: NaN })).toThrow(/^seed:/);
  });
});

describe('ratioOfMediansCI', () => {
  it('estimates median(a) / median(b) and brackets it, reproducibly', () => {
    fc.assert(
      fc.property(typical, typical, seed, (a, b, s) => {
        const options = { seed: s, resamples: 300 };
        const ci = ratioOfMediansCI(a, b, options);
        expect(ci.estimate).toBeCloseTo(median(a) / median(b), 12);
        expect(ci.lower).toBeLessThanOrEqual(ci.upper);
        expect(ci.lower).toBeGreaterThan(0);
        expect(ratioOfMediansCI(a, b, options)).toEqual(ci);
      }),
      { numRuns: 30 },
    );
  });

  it('scales with the samples: a = 3·b gives a ratio of 3 and an interval around it', () => {
    const cloud = Array.from({ length: 30 }, (_, i) => 40 + ((i * 13) % 17));
    const onDevice = cloud.map((v) => 3 * v);
    const ci = ratioOfMediansCI(onDevice, cloud, { seed: 'scaling' });
    expect(ci.estimate).toBe(3);
    expect(ci.lower).toBeLessThanOrEqual(3);
    expect(ci.upper).toBeGreaterThanOrEqual(3);
  });

  it('names the argument it refuses', () => {
    expect(() => ratioOfMediansCI([], [1], { seed: 1 })).toThrow(/^a: needs at least 1 value/);
    expect(() => ratioOfMediansCI([1], [], { seed: 1 })).toThrow(/^b: needs at least 1 value/);
    expect(() => ratioOfMediansCI([1], [2, 0], { seed: 1 })).toThrow(/^b\[1\]: must be a finite number > 0/);
    expect(() => ratioOfMediansCI([-1], [2], { seed: 1 })).toThrow(/^a\[0\]:/);
    expect(() => ratioOfMediansCI([1], [Infinity], { seed: 1 })).toThrow(/^b\[0\]:/);
    expect(() => ratioOfMediansCI([1], [2], { seed: 1, confidence: 1.2 })).toThrow(/^confidence:/);
    expect(() => ratioOfMediansCI([1], [2], { seed: 1, resamples: -3 })).toThrow(/^resamples:/);
  });
});

describe('bootstrapMedianCI, counting its draws', () => {
  /** The textbook way: one resample's values drawn, sorted, and their median taken. */
  const bySorting = (values: number[], s: number | string): number => {
    const sorted = Float64Array.from(values).sort();
    const random = seededRandom(s);
    return median(Array.from({ length: sorted.length }, () => sorted[Math.floor(random() * sorted.length)] ?? NaN));
  };

  it('gives, to the bit, the median that sorting the resample gives, ties and odd or even sizes alike', () => {
    const samples = fc.array(fc.integer({ min: 1, max: 20 }), { minLength: 1, maxLength: 40 }).map((xs) => xs.map((x) => x / 3));
    fc.assert(
      fc.property(samples, seed, (values, s) => {
        // With one resample, the interval is that resample's median.
        const ci = bootstrapMedianCI(values, { seed: s, resamples: 1 });
        expect([ci.lower, ci.upper]).toEqual([bySorting(values, s), bySorting(values, s)]);
      }),
    );
  });
});
