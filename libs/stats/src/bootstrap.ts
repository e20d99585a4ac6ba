import { quantileOfSorted, sortedSample } from './quantile';
import { seededRandom, type Random, type Seed } from './random';
import { checkConfidence, checkPositive, checkPositiveInteger } from './validate';

export interface BootstrapOptions {
  /** The interval's nominal coverage, strictly between 0 and 1. Default 0.95. */
  confidence?: number;
  /** How many bootstrap resamples to draw: an integer ≥ 1. Default 2000. */
  resamples?: number;
  /** Seeds the generator (see `seededRandom`): the same data and seed give the same interval. */
  seed: Seed;
}

export interface ConfidenceInterval {
  /** The statistic on the data as given. */
  estimate: number;
  lower: number;
  upper: number;
  confidence: number;
  resamples: number;
}

/**
 * The median of n values drawn with replacement from `sorted`. The draws are counted per index
 * (into `counts`, length n) and the middle order statistics read off the running count: as
 * `sorted` is in order, that is what sorting the drawn values gives, in O(n) instead of
 * O(n log n), and the same to the bit.
 */
function resampledMedian(sorted: Float64Array, counts: Uint32Array, random: Random): number {
  const n = sorted.length;
  counts.fill(0);
  // ⌊u·n⌋ with u a multiple of 2⁻³²: each index has probability within n·2⁻³² of 1/n.
  for (let i = 0; i < n; i++) counts[Math.floor(random() * n)]++;
  // Type 7, as quantileOfSorted: order statistics lo and lo + 1 (from 0), h = (n − 1)/2.
  const h = (n - 1) * 0.5;
  const lo = Math.floor(h);
  let index = 0;
  let before = 0; // draws of the indices below `index`
  while (before + counts[index] <= lo) before += counts[index++];
  const below = sorted[index];
  if (h === lo) return below;
  if (before + counts[index] <= lo + 1) {
    index++;
    while (counts[index] === 0) index++;
  }
  const above = sorted[index];
  return below + (h - lo) * (above - below);
}

/**
 * The percentile interval of `replicate` over `resamples` draws: the type-7 quantiles at
 * (1 − confidence)/2 and (1 + confidence)/2 of the replicates (Efron & Tibshirani, "An
 * Introduction to the Bootstrap", 1993, ch. 13).
 */
function percentileInterval(estimate: number, replicate: (random: Random) => number, options: BootstrapOptions): ConfidenceInterval {
  const { confidence = 0.95, resamples = 2000, seed } = options;
  checkConfidence('confidence', confidence);
  checkPositiveInteger('resamples', resamples);
  const random = seededRandom(seed);
  const replicates = new Float64Array(resamples);
  for (let r = 0; r < resamples; r++) replicates[r] = replicate(random);
  replicates.sort();
  const alpha = 1 - confidence;
  return {
    estimate,
    lower: quantileOfSorted(replicates, alpha / 2),
    upper: quantileOfSorted(replicates, 1 - alpha / 2),
    confidence,
    resamples,
  };
}

/**
 * A percentile-bootstrap confidence interval for the median of `values`: draw `resamples` samples
 * of size n with replacement, take each one's median, and read the interval off the quantiles of
 * those medians (Efron 1979; Efron & Tibshirani 1993, ch. 13). The generator is seeded, so the
 * same values and seed always give the same interval.
 *
 * Known weakness for small n: a resample's median can only be one of the sample's order
 * statistics (or the mean of two), so the bootstrap distribution is coarse and lumpy, and the
 * percentile interval covers less than its nominal level; below about 10–15 values treat it as a
 * rough guide. With one value the interval is that value. It also assumes independent,
 * identically distributed values (consecutive iterations on a warming device are neither).
 *
 * Throws on an empty sample, NaN or ±Infinity, confidence outside (0, 1), a non-integer or
 * non-positive resamples, or a seed that is neither a finite number nor a string.
 */
export function bootstrapMedianCI(values: readonly number[], options: BootstrapOptions): ConfidenceInterval {
  const sorted = sortedSample('values', values);
  const counts = new Uint32Array(sorted.length);
  return percentileInterval(quantileOfSorted(sorted, 0.5), (random) => resampledMedian(sorted, counts, random), options);
}

/**
 * median(a) ÷ median(b) with a percentile-bootstrap confidence interval, for two independent
 * samples: each replicate resamples a and b separately (each with replacement, at its own size)
 * and takes the ratio of their medians. The farm reports on-device total ÷ cloud total this way:
 * a = on-device totals, b = cloud totals, so a ratio above 1 means on-device is slower.
 *
 * Every value of both samples must be > 0 (durations and energies are), so no resampled median
 * is 0 or negative and the ratio is always defined. The small-sample caveats of
 * `bootstrapMedianCI` apply to each sample.
 *
 * Throws on an empty sample, a value that is not a finite number > 0 (naming `a[i]` or `b[i]`),
 * and on bad options as `bootstrapMedianCI` does.
 */
export function ratioOfMediansCI(a: readonly number[], b: readonly number[], options: BootstrapOptions): ConfidenceInterval {
  const sortedA = sortedSample('a', a);
  const sortedB = sortedSample('b', b);
  a.forEach((v, i) => checkPositive(`a[${i}]`, v));
  b.forEach((v, i) => checkPositive(`b[${i}]`, v));
  const countsA = new Uint32Array(sortedA.length);
  const countsB = new Uint32Array(sortedB.length);
  return percentileInterval(
    quantileOfSorted(sortedA, 0.5) / quantileOfSorted(sortedB, 0.5),
    (random) => resampledMedian(sortedA, countsA, random) / resampledMedian(sortedB, countsB, random),
    options,
  );
}
