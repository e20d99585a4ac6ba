import { PassThrough } from 'node:stream';
import type { JobProgress } from '@farm/contracts';
import { formatElapsed, plainLine, progressBar, progressLine, progressView } from './watch';

const progress = (p: Partial<JobProgress>): JobProgress => ({ total: 10, queued: 0, running: 0, passed: 0, failed: 0, errored: 0, cancelled: 0, timedOut: 0, ...p });

describe('progress formatting', () => {
  it('fills the bar with the share of finished runs', () => {
    expect(progressBar(progress({ queued: 10 }), 10)).toBe('[----------]');
    expect(progressBar(progress({ passed: 3, failed: 1, errored: 1, queued: 5 }), 10)).toBe('[#####-----]');
    expect(progressBar(progress({ passed: 10 }), 4)).toBe('[####]');
    expect(progressBar(progress({ total: 0 }), 4)).toBe('[####]');
  });

  it('prints elapsed time in seconds, then minutes', () => {
    expect(formatElapsed(5_400)).toBe('5s');
    expect(formatElapsed(65_000)).toBe('1m05s');
  });

  it('fits the redrawn line to the terminal, with the bar in the room the counts leave', () => {
    const job = { status: 'running' as const, progress: progress({ passed: 4, running: 2, queued: 4 }) };
    const wide = progressLine(job, 3_000, 120);
    expect(wide).toMatch(/^\[#{15}-{23}\] 4\/10 runs {2}queued 4 {2}running 2 {2}passed 4 {2}failed 0 {2}3s$/);
    const narrow = progressLine(job, 3_000, 80);
    expect(narrow.length).toBeLessThan(80);
    expect(narrow).toMatch(/^\[#+-+\] 4\/10 runs/);
    expect(progressLine(job, 3_000, 40)).toHaveLength(39);
  });

  it('shows errored, cancelled and timed out runs on the redrawn line only once there are some', () => {
    const line = progressLine({ status: 'running', progress: progress({ errored: 1, timedOut: 2 }) }, 0, 200);
    expect(line).toContain('errored 1  timed out 2');
    expect(line).not.toContain('cancelled');
  });

  it('gives logs every count and the job status', () => {
    expect(plainLine({ status: 'finished', progress: progress({ passed: 9, failed: 1 }) }, 2_000)).toBe(
      '10/10 runs  queued 0  running 0  passed 9  failed 1  errored 0  cancelled 0  timed out 0  finished (2s)',
    );
  });
});

describe('progressView', () => {
  it('writes a plain line to a non-terminal only when the counts change', () => {
    const stream = Object.assign(new PassThrough(), { isTTY: false }) as unknown as NodeJS.WriteStream & PassThrough;
    let text = '';
    stream.on('data', (chunk: Buffer) => (text += chunk.toString()));
    const sut = progressView(stream, () => 0);
    sut.update({ status: 'queued', progress: progress({ queued: 10 }) });
    sut.update({ status: 'queued', progress: progress({ queued: 10 }) });
    sut.update({ status: 'running', progress: progress({ queued: 9, running: 1 }) });
    sut.end();
    expect(text.split('\n').filter(Boolean)).toHaveLength(2);
    expect(text).not.toContain('\r');
  });
});
