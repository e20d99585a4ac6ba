import type { Measurement } from '@farm/contracts';
import type { BenchResult } from '@farm/contracts';
import { phaseMedians } from './ui';

const row = (iteration: number, phase: Measurement['phase'], durationMs: number, warmup = false): Measurement => ({ iteration, warmup, phase, durationMs, energyMj: null, energyMethod: 'none' });

describe('phaseMedians', () => {
  it('gives each recorded phase its median over measured iterations, in the vocabulary order', () => {
    const measurements = [row(0, 'model_load', 300), row(1, 'inference', 900, true), row(2, 'inference', 50), row(3, 'inference', 70), row(2, 'total', 60), row(3, 'total', 80)];
    expect(phaseMedians({ measurements } as unknown as BenchResult)).toEqual([
      { phase: 'model_load', n: 1, warmup: 0, medianMs: 300 },
      { phase: 'inference', n: 2, warmup: 1, medianMs: 60 },
      { phase: 'total', n: 2, warmup: 0, medianMs: 70 },
    ]);
  });
});
