/** One reading of the battery while a run goes: current (mA, positive = discharge) and voltage (mV). */
export interface PowerSample {
  /** On the same clock as the phase intervals, in ms. */
  tMs: number;
  currentMa: number;
  voltageMv: number;
}

/** When a phase ran, on the samples' clock. */
export interface Interval {
  startMs: number;
  endMs: number;
}

/** Energy drawn over one interval, and how well the samples covered it. */
export interface IntervalEnergy {
  energyMj: number;
  /** Samples that fell inside the interval (its ends are interpolated either way). */
  samplesInside: number;
}

/**
 * Energy over each interval from sampled battery power, in mJ: the integral of P = I·V over the
 * interval by the trapezoidal rule, with the power at the interval's ends interpolated linearly
 * between the neighbouring samples. Units: mA × mV = µW, and µW × ms = nJ, so the sum is divided
 * by 10⁶ to give mJ. An interval that reaches beyond the first or last sample is refused: the
 * power there is unknown, and extrapolating it would make a figure up.
 */
export function integrateEnergy(samples: readonly PowerSample[], intervals: readonly Interval[]): IntervalEnergy[] {
  if (samples.length < 2) throw new Error(`energy needs at least two power samples, got ${samples.length}`);
  for (let i = 1; i < samples.length; i++) {
    const [previous, current] = [samples[i - 1], samples[i]];
    if (!previous || !current || !(current.tMs > previous.tMs)) throw new Error(`power samples must be in strictly increasing time order (sample ${i})`);
  }
  const first = samples[0]?.tMs ?? 0;
  const last = samples[samples.length - 1]?.tMs ?? 0;
  return intervals.map(({ startMs, endMs }, n) => {
    if (!(endMs >= startMs)) throw new Error(`interval ${n} ends (${endMs} ms) before it starts (${startMs} ms)`);
    if (startMs < first || endMs > last) {
      throw new Error(`interval ${n} (${startMs}–${endMs} ms) is not covered by the power samples (${first}–${last} ms)`);
    }
    // The interval's ends with the samples strictly inside it, as (time, power in µW) points.
    const inside = samples.filter((s) => s.tMs > startMs && s.tMs < endMs);
    const points = [
      { t: startMs, p: powerAt(samples, startMs) },
      ...inside.map((s) => ({ t: s.tMs, p: s.currentMa * s.voltageMv })),
      { t: endMs, p: powerAt(samples, endMs) },
    ];
    let nanojoules = 0;
    for (let i = 1; i < points.length; i++) {
      const [a, b] = [points[i - 1], points[i]];
      if (a && b) nanojoules += ((a.p + b.p) / 2) * (b.t - a.t);
    }
    return { energyMj: nanojoules / 1e6, samplesInside: inside.length };
  });
}

/** Power in µW at time t, linear between the samples around it (t within the samples' span). */
function powerAt(samples: readonly PowerSample[], t: number): number {
  let lo = 0;
  let hi = samples.length - 1;
  // The last sample at or before t, by bisection: runs sample for minutes at tens of Hz.
  while (hi - lo > 1) {
    const mid = (lo + hi) >> 1;
    if ((samples[mid]?.tMs ?? 0) <= t) lo = mid;
    else hi = mid;
  }
  const a = samples[lo];
  const b = samples[hi];
  if (!a || !b) throw new Error('no samples');
  const pa = a.currentMa * a.voltageMv;
  const pb = b.currentMa * b.voltageMv;
  if (t <= a.tMs || b.tMs === a.tMs) return pa;
  if (t >= b.tMs) return pb;
  return pa + ((pb - pa) * (t - a.tMs)) / (b.tMs - a.tMs);
}

/** Samples per second over a trace, as recorded with a run's energy method. */
export function samplingRateHz(samples: readonly PowerSample[]): number {
  const first = samples[0];
  const last = samples[samples.length - 1];
  if (!first || !last || samples.length < 2 || last.tMs === first.tMs) return 0;
  return ((samples.length - 1) * 1000) / (last.tMs - first.tMs);
}
