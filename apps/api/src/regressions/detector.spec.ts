import { seededRandom } from '@farm/stats';
import { judge } from './detector';

function lognormal(seed: string, n: number, medianMs: number, sigma = 0.1): number[] {
  const random = seededRandom(seed);
  return Array.from({ length: n }, () => medianMs * Math.exp(sigma * Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random())));
}

describe('judge', () => {
  it('calls a 10% slowdown a regression, with its evidence', () => {
    const sut = judge(lognormal('base', 300, 100), lognormal('slow', 60, 110));
    expect(sut?.kind).toBe('regression');
    expect(sut?.evidence.changePct).toBeGreaterThan(6);
    expect(sut?.evidence.p).toBeLessThan(0.001);
    expect(sut?.evidence.baseline.n).toBe(300);
  });

  it('calls a 10% speed-up an improvement and noise no change', () => {
    expect(judge(lognormal('base', 300, 100), lognormal('fast', 60, 90))?.kind).toBe('improvement');
    expect(judge(lognormal('base', 300, 100), lognormal('same', 60, 100))?.kind).toBe('no_change');
  });

  it('is inconclusive on a large shift of a noisy series the test cannot confirm', () => {
    expect(judge(lognormal('base', 40, 100, 0.6), lognormal('noisy', 30, 108, 0.6))?.kind).toBe('inconclusive');
  });

  it('says nothing under the minimum sample sizes', () => {
    expect(judge(lognormal('base', 300, 100), lognormal('few', 29, 200))).toBeNull();
    expect(judge(lognormal('base', 29, 100), lognormal('cur', 60, 200))).toBeNull();
  });
});
