import fc from 'fast-check';
import { madOutliers } from './outliers';

describe('madOutliers', () => {
  it('scores by 0.6745·(x − median)/MAD and flags |score| > 3.5', () => {
    // Worked by hand (no published example fits): median 5; |x − 5| = 3 1 1 0 0 2 95, sorted
    // 0 0 1 1 2 3 95, so MAD = 1. Scores: 0.6745·(−3) = −2.0235, −0.6745, −0.6745, 0, 0, 1.349,
    // 0.6745·95 = 64.0775; only the last is beyond 3.5.
    const result = madOutliers([2, 4, 4, 5, 5, 7, 100]);
    expect(result.median).toBe(5);
    expect(result.mad).toBe(1);
    const expected = [-2.0235, -0.6745, -0.6745, 0, 0, 1.349, 64.0775];
    result.scores.forEach((score, i) => expect(score).toBeCloseTo(expected[i], 10));
    expect(result.outliers).toEqual([6]);
    expect(madOutliers([2, 4, 4, 5, 5, 7, 100], { threshold: 2 }).outliers).toEqual([0, 6]);
  });

  it('with MAD = 0, scores ±Infinity for every value off the median and flags it', () => {
    expect(madOutliers([5, 5, 5, 5, 6, 4])).toEqual({ median: 5, mad: 0, scores: [0, 0, 0, 0, Infinity, -Infinity], outliers: [4, 5] });
    expect(madOutliers([3])).toEqual({ median: 3, mad: 0, scores: [0], outliers: [] });
  });

  it('does not move when the data are shifted or scaled', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: -1000, max: 1000 }), { minLength: 1, maxLength: 30 }),
        fc.integer({ min: -1000, max: 1000 }),
        fc.integer({ min: 1, max: 50 }),
        (values, shift, scale) => {
          expect(madOutliers(values.map((v) => v * scale + shift)).outliers).toEqual(madOutliers(values).outliers);
        },
      ),
    );
  });

  it('names the argument it refuses', () => {
    expect(() => madOutliers([])).toThrow(/^values: needs at least 1 value/);
    expect(() => madOutliers([1, NaN])).toThrow(/^values\[1\]:/);
    expect(() => madOutliers([1, 2], { threshold: 0 })).toThrow(/^threshold: must be a finite number > 0/);
    expect(() => madOutliers([1, 2], { threshold: NaN })).toThrow(/^threshold:/);
  });
});
