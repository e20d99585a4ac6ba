import { quantileOfSorted } from './quantile';
import { checkSample } from './validate';

/**
 * The Hodges–Lehmann estimate of the shift from a to b: the median of the n·m differences
 * bⱼ − aᵢ over every pair. Positive when b tends to be larger than a. (R's
 * `wilcox.test(a, b, conf.int = TRUE)` reports the opposite sign, the median of aᵢ − bⱼ.)
 *
 * It is not the difference of the two medians. With an even count of differences the median is
 * the mean of the middle two, as in `median`. Ties need no special handling. The differences are
 * formed and sorted: O(n·m) memory and O(n·m·log(n·m)) time.
 *
 * Throws when a or b is empty or holds NaN or ±Infinity.
 *
 * Reference: J. L. Hodges and E. L. Lehmann, "Estimates of location based on rank tests", Annals
 * of Mathematical Statistics 34, 1963, pp. 598–611.
 */
export function hodgesLehmannShift(a: readonly number[], b: readonly number[]): number {
  checkSample('a', a);
  checkSample('b', b);
  const differences = new Float64Array(a.length * b.length);
  let k = 0;
  for (const bj of b) for (const ai of a) differences[k++] = bj - ai;
  return quantileOfSorted(differences.sort(), 0.5);
}
