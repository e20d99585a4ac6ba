// Argument checks shared by every function: each error names the argument it is about, in the
// `name: problem` form the rest of the farm uses.

/** Throws unless `values` holds at least `min` values, every one a finite number. */
export function checkSample(name: string, values: readonly number[], min = 1): void {
  if (!Array.isArray(values)) throw new RangeError(`${name}: must be an array of numbers`);
  if (values.length < min) {
    throw new RangeError(`${name}: needs at least ${min} value${min === 1 ? '' : 's'}, got ${values.length}`);
  }
  values.forEach((v, i) => {
    if (typeof v !== 'number' || !Number.isFinite(v)) {
      throw new RangeError(`${name}[${i}]: must be a finite number, got ${String(v)}`);
    }
  });
}

/** Throws unless `p` is a finite number in [0, 1]. */
export function checkProbability(name: string, p: number): void {
  if (typeof p !== 'number' || !(p >= 0 && p <= 1)) throw new RangeError(`${name}: must be a number in [0, 1], got ${String(p)}`);
}

/** Throws unless `level` is a number strictly between 0 and 1. */
export function checkConfidence(name: string, level: number): void {
  if (typeof level !== 'number' || !(level > 0 && level < 1)) {
    throw new RangeError(`${name}: must be a number strictly between 0 and 1, got ${String(level)}`);
  }
}

/** Throws unless `n` is an integer ≥ 1. */
export function checkPositiveInteger(name: string, n: number): void {
  if (!Number.isSafeInteger(n) || n < 1) throw new RangeError(`${name}: must be an integer ≥ 1, got ${String(n)}`);
}

/** Throws unless `x` is a finite number > 0. */
export function checkPositive(name: string, x: number): void {
  if (typeof x !== 'number' || !Number.isFinite(x) || x <= 0) throw new RangeError(`${name}: must be a finite number > 0, got ${String(x)}`);
}
