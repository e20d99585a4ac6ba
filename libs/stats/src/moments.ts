import { checkSample } from './validate';

/**
 * The arithmetic mean Σx / n, refined by a second pass (m + Σ(x − m) / n) that recovers most of
 * the rounding of the first sum when the values share a large offset (NIST StRD NumAcc3/4).
 * One value is its own mean. Throws on an empty sample, NaN or ±Infinity.
 */
export function mean(values: readonly number[]): number {
  checkSample('values', values);
  return refinedMean(values);
}

function refinedMean(values: readonly number[]): number {
  const n = values.length;
  const rough = values.reduce((s, v) => s + v, 0) / n;
  return rough + values.reduce((s, v) => s + (v - rough), 0) / n;
}

/**
 * The sample variance, with Bessel's correction: Σ(x − x̄)² / (n − 1). Computed by the corrected
 * two-pass algorithm of Chan, Golub & LeVeque ("Algorithms for computing the sample variance",
 * The American Statistician 37(3), 1983), which subtracts (Σ(x − x̄))² / n to cancel the error
 * left in x̄.
 *
 * It needs two values: with one, n − 1 = 0 and the sample variance is undefined, so n = 1 throws
 * (rather than return NaN as R's `var` does, which would travel silently into a report). Throws
 * on NaN or ±Infinity too.
 */
export function variance(values: readonly number[]): number {
  checkSample('values', values, 2);
  const m = refinedMean(values);
  let squares = 0;
  let sum = 0;
  for (const v of values) {
    const d = v - m;
    squares += d * d;
    sum += d;
  }
  // Never below 0, which rounding could otherwise reach for near-constant samples.
  return Math.max(0, squares - (sum * sum) / values.length) / (values.length - 1);
}

/** The sample standard deviation √variance (n − 1 in the denominator); needs two values, as `variance`. */
export function std(values: readonly number[]): number {
  return Math.sqrt(variance(values));
}
