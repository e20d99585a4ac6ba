import { checkProbability, checkSample } from './validate';

/**
 * The values in ascending order, as a new array (the input is left as it is). Validates them as
 * `name`: non-empty, every value finite.
 */
export function sortedSample(name: string, values: readonly number[]): Float64Array {
  checkSample(name, values);
  return Float64Array.from(values).sort();
}

/**
 * Hyndman & Fan type 7 on values already sorted ascending: with h = (n − 1)·p, the value
 * x[⌊h⌋] + (h − ⌊h⌋)·(x[⌊h⌋ + 1] − x[⌊h⌋]), 0-based. This is the arithmetic of PostgreSQL's
 * `percentile_cont` (orderedsetaggs.c: floor and ceil of p·(n − 1), then lo + pct·(hi − lo)), so
 * the two give the same double on the same data.
 */
export function quantileOfSorted(sorted: Float64Array, p: number): number {
  const h = (sorted.length - 1) * p;
  const lo = Math.floor(h);
  const below = sorted[lo];
  const above = sorted[Math.min(lo + 1, sorted.length - 1)];
  return h === lo ? below : below + (h - lo) * (above - below);
}

/**
 * The p-quantile of `values` (in any order) by Hyndman & Fan's definition 7: the linear
 * interpolation between order statistics x(⌊h⌋+1) and x(⌊h⌋+2), h = (n − 1)·p.
 *
 * It is the default of R's `quantile`, NumPy's `quantile`/`percentile` and Excel's
 * `PERCENTILE.INC`, and the definition of PostgreSQL's `percentile_cont`, which the API's summary
 * SQL uses: figures computed here and there agree.
 *
 * Edge cases: p = 0 gives the minimum and p = 1 the maximum; one value is every quantile of
 * itself; ties need no special handling (equal order statistics interpolate to themselves).
 * Throws when `values` is empty or holds NaN or ±Infinity, or when p is not in [0, 1].
 *
 * Reference: R. J. Hyndman and Y. Fan, "Sample quantiles in statistical packages", The American
 * Statistician 50(4), 1996, pp. 361–365.
 */
export function quantile(values: readonly number[], p: number): number {
  checkProbability('p', p);
  return quantileOfSorted(sortedSample('values', values), p);
}

/**
 * `quantile` at each of `ps`, in the order given, sorting `values` once. Throws as `quantile`
 * does, naming the offending `ps[i]`; an empty `ps` gives an empty array.
 */
export function quantiles(values: readonly number[], ps: readonly number[]): number[] {
  ps.forEach((p, i) => checkProbability(`ps[${i}]`, p));
  const sorted = sortedSample('values', values);
  return ps.map((p) => quantileOfSorted(sorted, p));
}

/**
 * The sample median: `quantile(values, 0.5)`, the middle value for an odd count and the mean of
 * the two middle values for an even one. Throws on an empty sample, NaN or ±Infinity.
 */
export function median(values: readonly number[]): number {
  return quantileOfSorted(sortedSample('values', values), 0.5);
}
