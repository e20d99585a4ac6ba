import fc from 'fast-check';
import { EXACT_MAX_PAIRS, mannWhitneyU, type Alternative } from './mann-whitney';

const ALTERNATIVES: Alternative[] = ['two-sided', 'less', 'greater'];

/** U of a by its definition: pairs with aᵢ > bⱼ, plus half the pairs with aᵢ = bⱼ. */
function pairCount(a: number[], b: number[]): number {
  let u = 0;
  for (const x of a) for (const y of b) u += x > y ? 1 : x === y ? 0.5 : 0;
  return u;
}

/** Every way of giving n of the ranks 1 … n + m to sample a, as the U each gives. */
function allUs(n: number, m: number): number[] {
  const us: number[] = [];
  const pick = (next: number, left: number, rankSum: number): void => {
    if (left === 0) {
      us.push(rankSum - (n * (n + 1)) / 2);
      return;
    }
    for (let r = next; r <= n + m - left + 1; r++) pick(r + 1, left - 1, rankSum + r);
  };
  pick(1, n, 0);
  return us;
}

function bruteForceP(u: number, n: number, m: number, alternative: Alternative): number {
  const us = allUs(n, m);
  const atMost = us.filter((x) => x <= u).length / us.length;
  const atLeast = us.filter((x) => x >= u).length / us.length;
  if (alternative === 'less') return atMost;
  if (alternative === 'greater') return atLeast;
  return Math.min(1, 2 * Math.min(atMost, atLeast));
}

const smallInts = (maxLength: number) => fc.array(fc.integer({ min: 0, max: 12 }), { minLength: 1, maxLength });

describe('mannWhitneyU', () => {
  it('counts U as the pairs where a is above b, ties counting half, and U_a + U_b = n·m', () => {
    fc.assert(
      fc.property(smallInts(15), smallInts(15), (a, b) => {
        const ua = mannWhitneyU(a, b).u;
        expect(ua).toBe(pairCount(a, b));
        expect(ua + mannWhitneyU(b, a).u).toBe(a.length * b.length);
      }),
    );
  });

  it('gives the exact p-value of enumerating every rank assignment, for tiny untied samples', () => {
    const untied = fc
      .uniqueArray(fc.integer({ min: -100, max: 100 }), { minLength: 2, maxLength: 10 })
      .chain((pool) => fc.integer({ min: 1, max: pool.length - 1 }).map((cut) => [pool.slice(0, cut), pool.slice(cut)]));
    fc.assert(
      fc.property(untied, fc.constantFrom(...ALTERNATIVES), ([a, b], alternative) => {
        const result = mannWhitneyU(a, b, { alternative });
        expect(result.method).toBe('exact');
        expect(result.p).toBeCloseTo(bruteForceP(result.u, a.length, b.length, alternative), 12);
      }),
    );
  });

  it('keeps p in [0, 1] and mirrors the alternatives when the samples swap', () => {
    fc.assert(
      fc.property(smallInts(12), smallInts(12), fc.constantFrom<'auto' | 'normal'>('auto', 'normal'), (a, b, method) => {
        const less = mannWhitneyU(a, b, { alternative: 'less', method });
        const greater = mannWhitneyU(b, a, { alternative: 'greater', method });
        expect(less.p).toBeCloseTo(greater.p, 12);
        for (const alternative of ALTERNATIVES) {
          const { p } = mannWhitneyU(a, b, { alternative, method });
          expect(p).toBeGreaterThanOrEqual(0);
          expect(p).toBeLessThanOrEqual(1);
        }
      }),
    );
  });

  it('matches SciPy documentation for scipy.stats.mannwhitneyu (males vs females, after Shier 2004)', () => {
    const males = [19, 22, 16, 29, 24];
    const females = [20, 11, 17, 12];
    expect(mannWhitneyU(males, females)).toEqual({ u: 17, p: expect.closeTo(0.1111111111111111, 14), method: 'exact' });
    expect(mannWhitneyU(males, females, { method: 'normal' }).p).toBeCloseTo(0.11134688653314041, 13);
    expect(mannWhitneyU(males, females, { method: 'normal', continuity: false }).p).toBeCloseTo(0.0864107329737, 12);
    expect(mannWhitneyU(females, males, { alternative: 'less' })).toEqual({ u: 3, p: expect.closeTo(0.05555555555555555, 14), method: 'exact' });
  });

  it("matches R's wilcox.test on Hollander & Wolfe's permeability data (the example of R's ?wilcox.test)", () => {
    // R output as recorded in the basic_stats crate's R/Wilcoxon.txt: W = 35; exact p 0.1272
    // (greater), 0.2544 (two-sided), 0.8968 (less); with exact = FALSE, correct = FALSE 0.1103,
    // 0.2207, 0.8897.
    const x = [0.8, 0.83, 1.89, 1.04, 1.45, 1.38, 1.91, 1.64, 0.73, 1.46];
    const y = [1.15, 0.88, 0.9, 0.74, 1.21];
    const published: [Alternative, number, number][] = [
      ['greater', 0.1272, 0.1103],
      ['two-sided', 0.2544, 0.2207],
      ['less', 0.8968, 0.8897],
    ];
    for (const [alternative, exact, normal] of published) {
      expect(mannWhitneyU(x, y, { alternative })).toEqual({ u: 35, p: expect.closeTo(exact, 4), method: 'exact' });
      expect(mannWhitneyU(x, y, { alternative, method: 'normal', continuity: false }).p).toBeCloseTo(normal, 4);
    }
  });

  it('matches the NAG Library examples, without ties (G08AJF) and with them (G08AMC)', () => {
    // NAG G08AJF example results: U = 86, exact tail probability 0.0022, normal statistic
    // −2.7838 with tail probability 0.0027 (lower tail: group 1 below group 2).
    const g1 = [13.0, 5.8, 11.7, 6.5, 12.3, 6.7, 9.2, 6.9, 10.0, 7.3, 16.0, 7.0, 10.5, 8.5, 9.0, 7.5];
    const g2 = [17.0, 6.2, 10.1, 8.0, 15.3, 8.2, 15.0, 9.6, 14.9, 10.4, 14.2, 9.8, 13.8, 11.0, 14.0, 11.1, 12.9, 11.6, 12.8, 12.0, 13.1, 12.4, 11.9];
    expect(mannWhitneyU(g1, g2, { alternative: 'less' })).toEqual({ u: 86, p: expect.closeTo(0.0022, 4), method: 'exact' });
    expect(mannWhitneyU(g1, g2, { alternative: 'less', method: 'normal' }).p).toBeCloseTo(0.0027, 4);
    // NAG G08AMC example results (tied data): U = 86, normal statistic −2.8039, approximate tail
    // probability 0.0025: the tie-corrected variance with continuity correction.
    const t1 = [13, 6, 12, 7, 12, 7, 10, 7, 10, 7, 16, 7, 10, 8, 9, 8];
    const t2 = [17, 6, 10, 8, 15, 8, 15, 10, 15, 10, 14, 10, 14, 11, 14, 11, 13, 12, 13, 12, 13, 12, 12];
    expect(mannWhitneyU(t1, t2, { alternative: 'less' })).toEqual({ u: 86, p: expect.closeTo(0.0025, 4), method: 'normal' });
  });

  it("matches ClickHouse's documented mannWhitneyUTest example (normal, continuity-corrected)", () => {
    // mannWhitneyUTest('greater') over (10, 11, 12) vs (1, 2, 3) → (9, 0.04042779918503192).
    expect(mannWhitneyU([10, 11, 12], [1, 2, 3], { alternative: 'greater', method: 'normal' })).toEqual({
      u: 9,
      p: expect.closeTo(0.04042779918503192, 12),
      method: 'normal',
    });
  });

  it('goes normal past EXACT_MAX_PAIRS or with ties, and gives p = 1 when every value is tied', () => {
    const a = Array.from({ length: 50 }, (_, i) => i * 2);
    const b = Array.from({ length: 51 }, (_, i) => i * 2 + 1);
    expect(a.length * b.length).toBeGreaterThan(EXACT_MAX_PAIRS);
    expect(mannWhitneyU(a, b).method).toBe('normal');
    expect(mannWhitneyU(a.slice(1), b.slice(1)).method).toBe('exact');
    expect(mannWhitneyU([1, 2, 2], [3, 4]).method).toBe('normal');
    expect(mannWhitneyU([5, 5], [5, 5, 5])).toEqual({ u: 3, p: 1, method: 'normal' });
    expect(mannWhitneyU([1], [2])).toEqual({ u: 0, p: 1, method: 'exact' });
  });

  it('names the argument it refuses', () => {
    expect(() => mannWhitneyU([], [1])).toThrow(/^a: needs at least 1 value/);
    expect(() => mannWhitneyU([1], [])).toThrow(/^b: needs at least 1 value/);
    expect(() => mannWhitneyU([1, NaN], [2])).toThrow(/^a\[1\]:/);
    expect(() => mannWhitneyU([1], [Infinity])).toThrow(/^b\[0\]:/);
    expect(() => mannWhitneyU([1], [2], { alternative: 'bigger' as Alternative })).toThrow(/^alternative:/);
    expect(() => mannWhitneyU([1], [2], { method: 'exact' as 'auto' })).toThrow(/^method:/);
  });
});
