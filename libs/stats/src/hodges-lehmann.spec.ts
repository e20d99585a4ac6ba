import fc from 'fast-check';
import { hodgesLehmannShift } from './hodges-lehmann';

const sample = fc.array(fc.integer({ min: -500, max: 500 }), { minLength: 1, maxLength: 25 });

describe('hodgesLehmannShift', () => {
  it('is the median of every difference bⱼ − aᵢ', () => {
    fc.assert(
      fc.property(sample, sample, (a, b) => {
        const differences = b.flatMap((y) => a.map((x) => y - x)).sort((l, r) => l - r);
        const k = differences.length;
        const naive = k % 2 === 1 ? differences[(k - 1) / 2] : (differences[k / 2 - 1] + differences[k / 2]) / 2;
        expect(hodgesLehmannShift(a, b)).toBe(naive);
      }),
    );
  });

  it('changes sign when the samples swap, and moves with a shift of b', () => {
    fc.assert(
      fc.property(sample, sample, fc.integer({ min: -100, max: 100 }), (a, b, shift) => {
        // A sum, not toBe(-x): toBe is Object.is, which tells 0 from -0.
        expect(hodgesLehmannShift(b, a) + hodgesLehmannShift(a, b)).toBe(0);
        expect(hodgesLehmannShift(a, b.map((y) => y + shift))).toBe(hodgesLehmannShift(a, b) + shift);
      }),
    );
  });

  it('matches a worked example', () => {
    // The worked example on peterstatistics.com, "Hodges-Lehmann Estimate (Independent-Samples)":
    // x = 1, 3, 7, 8 and y = 2, 5, 8, 8, 9, estimate median(y − x). Worked by hand here: the 20
    // differences sorted are −6 −5 −3 −2 −1 0 0 1 1 1 | 1 2 2 4 5 5 6 7 7 8, so the median is
    // (1 + 1)/2 = 1 (the difference of medians would be 8 − 5 = 3).
    expect(hodgesLehmannShift([1, 3, 7, 8], [2, 5, 8, 8, 9])).toBe(1);
    expect(hodgesLehmannShift([4], [10])).toBe(6);
  });

  it('names the argument it refuses', () => {
    expect(() => hodgesLehmannShift([], [1])).toThrow(/^a: needs at least 1 value/);
    expect(() => hodgesLehmannShift([1], [])).toThrow(/^b: needs at least 1 value/);
    expect(() => hodgesLehmannShift([1], [2, NaN])).toThrow(/^b\[1\]:/);
  });
});

describe('hodgesLehmannShift at scale', () => {
  it('handles samples whose differences would not fit in memory, exactly', () => {
    // 20,000 × 20,000 = 4·10⁸ differences. a = 0..19999, b = a + 0.5: every difference is
    // j − i + 0.5, symmetric about 0.5, so the median is 0.5.
    const a = Array.from({ length: 20_000 }, (_, i) => i);
    const b = a.map((v) => v + 0.5);
    expect(hodgesLehmannShift(a, b)).toBe(0.5);
  });
});
