import type { AlertVerdict } from '@farm/contracts';
import { hodgesLehmannShift, mannWhitneyU, median } from '@farm/stats';
import { verdict, type CompareOptions } from '../analysis/analysis.service';

/**
 * A night against its baseline: a shift of at least 5% of the baseline median, significant at
 * 0.1% (a night tests tens of series, so 5% would raise several false alerts a week), with at
 * least 30 iterations a side.
 */
export const DETECTION: CompareOptions = { alpha: 0.001, minEffectPct: 5, minN: 30 };

export interface Evidence {
  baseline: { median: number; n: number };
  current: { median: number; n: number };
  p: number;
  shiftMs: number;
  changePct: number;
}

/** What a night's series says: a change to alert on, one to look at again, or none. */
export type Judgement = { kind: AlertVerdict | 'inconclusive' | 'no_change'; evidence: Evidence };

/**
 * The current night's iterations against the pooled baseline nights', as `GET /api/compare`
 * judges two jobs: the Hodges–Lehmann shift as a share of the baseline median, the
 * Mann–Whitney p. Null when either side has too few iterations to say anything.
 */
export function judge(baseline: readonly number[], current: readonly number[], options: CompareOptions = DETECTION): Judgement | null {
  if (baseline.length < options.minN || current.length < options.minN) return null;
  const baselineMedian = median(baseline);
  const shiftMs = hodgesLehmannShift(baseline, current);
  const { p } = mannWhitneyU(baseline, current);
  const changePct = baselineMedian === 0 ? 0 : (100 * shiftMs) / baselineMedian;
  const evidence: Evidence = {
    baseline: { median: baselineMedian, n: baseline.length },
    current: { median: median(current), n: current.length },
    p,
    shiftMs,
    changePct,
  };
  const said = verdict(baseline.length, current.length, p, changePct, options);
  const kind = said === 'slower' ? 'regression' : said === 'faster' ? 'improvement' : said === 'same' ? 'no_change' : 'inconclusive';
  return { kind, evidence };
}
