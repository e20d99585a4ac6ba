import type { StudyPair } from '@farm/contracts';
import { formatTable, outcomeLine, studyTable } from './report';

describe('formatTable', () => {
  it('pads columns to their widest cell and right-aligns numbers, numeric text and dashes among them', () => {
    const sut = formatTable(
      ['name', 'n', 'median', 'ratio'],
      [
        ['a', 5, '12.50', '2.10x'],
        ['longer', 12, '-', '0.35x'],
      ],
    );
    expect(sut.split('\n')).toEqual([
      'name     n  median  ratio',
      '------  --  ------  -----',
      'a        5   12.50  2.10x',
      'longer  12       -  0.35x',
    ]);
  });

  it('keeps a column of words, or of dashes only, left-aligned', () => {
    expect(formatTable(['a', 'b'], [['-', 'x'], ['-', 'yy']]).split('\n')[3]).toBe('-  yy');
  });
});

describe('studyTable', () => {
  const breakdown = { n: 10, medianTotalMs: 200, meanTotalMs: 210, shares: [], bottleneck: 'inference' as const, coldStart: { modelLoadMs: 500, iterations: 2.5 }, energyPerInferenceMj: 400, energyMethod: 'simulated' as const };
  it('prints the ratio with its interval, the cold load and energy by its method, and a dash where a scenario did not run', () => {
    const pairs: StudyPair[] = [
      { deviceModel: 'Sim Low-end', backend: 'simulated', model: 'mobilenet_v2', onDevice: breakdown, cloud: { ...breakdown, medianTotalMs: 100, bottleneck: 'upload', coldStart: null, energyPerInferenceMj: null, energyMethod: 'none' }, ratio: { estimate: 2, lower: 1.9, upper: 2.3, confidence: 0.95 } },
      { deviceModel: 'Sim Low-end', backend: 'simulated', model: 'inception_v3', onDevice: breakdown, cloud: null, ratio: null },
    ];
    const [, , first, second] = studyTable(pairs).split('\n').map((line) => line.split(/\s{2,}/));
    expect(first).toEqual(['Sim Low-end', 'simulated', 'mobilenet_v2', '200.0', '100.0', '2.00x', '1.90-2.30x', '500.0', '2.5', 'inference', 'upload', '400.0 (simulated)', '-']);
    expect(second).toEqual(['Sim Low-end', 'simulated', 'inception_v3', '200.0', '-', '-', '-', '500.0', '2.5', 'inference', '-', '400.0 (simulated)', '-']);
  });
});

describe('outcomeLine', () => {
  it('says how many runs passed', () => {
    expect(outcomeLine({ status: 'finished', progress: { total: 4, queued: 0, running: 0, passed: 3, failed: 1, errored: 0, cancelled: 0, timedOut: 0 } })).toBe('job finished: 3/4 runs passed');
  });
});
