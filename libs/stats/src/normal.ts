// The standard normal distribution's tails, for the Mann–Whitney normal approximation. Written
// out rather than approximated by a short rational formula, so p-values hold to about 1e-13
// relative (checked against published SciPy values in the tests).

const SQRT_PI = Math.sqrt(Math.PI);

/**
 * erfc(x) for x ≥ 0. Below 2: 1 − erf(x) by the series erf(x) = (2/√π)·e^(−x²)·Σ 2ⁿx^(2n+1)/(1·3·…·(2n+1)),
 * whose terms are all positive. From 2 on: the continued fraction
 * erfc(x) = e^(−x²)/√π · 1/(x + (1/2)/(x + 1/(x + (3/2)/(x + …)))) by the modified Lentz method,
 * which keeps its relative accuracy far into the tail. (Abramowitz & Stegun 7.1.6 and 7.1.14.)
 */
function erfcNonNegative(x: number): number {
  const scale = Math.exp(-x * x);
  if (x < 2) {
    let term = x;
    let sum = x;
    for (let n = 1; term > sum * 1e-17; n++) {
      term *= (2 * x * x) / (2 * n + 1);
      sum += term;
    }
    return 1 - ((2 / SQRT_PI) * scale * sum);
  }
  const tiny = 1e-300;
  let f = x;
  let c = x;
  let d = 0;
  for (let k = 1; k < 500; k++) {
    const a = k / 2;
    d = x + a * d;
    d = d === 0 ? tiny : 1 / d;
    c = x + a / c;
    if (c === 0) c = tiny;
    const delta = c * d;
    f *= delta;
    if (Math.abs(delta - 1) < 1e-16) break;
  }
  return scale / (SQRT_PI * f);
}

/** P(Z > z) for a standard normal Z. */
export function normalUpperTail(z: number): number {
  const x = z / Math.SQRT2;
  return x >= 0 ? erfcNonNegative(x) / 2 : 1 - erfcNonNegative(-x) / 2;
}

/** P(Z ≤ z) for a standard normal Z. */
export function normalLowerTail(z: number): number {
  return normalUpperTail(-z);
}
