import { quantileOfSorted, sortedSample } from './quantile';
import { checkPositive } from './validate';

export interface MadOutliers {
  median: number;
  /** The raw median absolute deviation, median(|xᵢ − median|), not scaled to σ. */
  mad: number;
  /** Each value's modified z-score, in input order. */
  scores: number[];
  /** Indices (into the input) of the values whose |score| exceeds the threshold, ascending. */
  outliers: number[];
}

/**
 * Flags outliers by the modified z-score of Iglewicz & Hoaglin: Mᵢ = 0.6745·(xᵢ − x̃)/MAD, with x̃
 * the median and MAD = median(|xᵢ − x̃|); 0.6745 is the normal's third quartile, so M is on the
 * scale of a z-score for normal data. A value is flagged when |Mᵢ| > threshold (3.5 by default,
 * the authors' recommendation).
 *
 * MAD = 0 (more than half the values are equal): the score is 0 for values equal to the median
 * and ±Infinity for every other value, which is then flagged: with most of the sample identical,
 * any departure from it is infinitely many MADs away. Check `mad` before reading flags on
 * heavily quantised data. One value is never an outlier of itself.
 *
 * Throws when values is empty or holds NaN or ±Infinity, or when threshold is not a finite
 * number > 0.
 *
 * Reference: B. Iglewicz and D. C. Hoaglin, "How to Detect and Handle Outliers", ASQC Basic
 * References in Quality Control vol. 16, 1993; NIST/SEMATECH e-Handbook of Statistical Methods,
 * §1.3.5.17.
 */
export function madOutliers(values: readonly number[], options: { threshold?: number } = {}): MadOutliers {
  const { threshold = 3.5 } = options;
  checkPositive('threshold', threshold);
  const sorted = sortedSample('values', values);
  const median = quantileOfSorted(sorted, 0.5);
  const mad = quantileOfSorted(sorted.map((v) => Math.abs(v - median)).sort(), 0.5);
  const scores = values.map((v) => {
    if (v === median) return 0;
    return mad === 0 ? Math.sign(v - median) * Infinity : (0.6745 * (v - median)) / mad;
  });
  const outliers = scores.flatMap((score, i) => (Math.abs(score) > threshold ? [i] : []));
  return { median, mad, scores, outliers };
}
