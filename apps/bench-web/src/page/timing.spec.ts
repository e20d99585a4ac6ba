import { median, splitCloud, timerResolution } from './timing';

describe('splitCloud', () => {
  const stamps = { start: 100, sent: 110, headers: 160, parsed: 163, responseStart: 158 };

  it('splits at Resource Timing responseStart: upload is what the server did not spend before the first byte', () => {
    expect(splitCloud(stamps, 40)).toEqual({ preprocess: 10, upload: 8, server: 40, download: 5, total: 63, source: 'resource_timing' });
  });

  it('falls back to the moment fetch resolved when Resource Timing gives nothing usable', () => {
    for (const responseStart of [null, 0, 105, 170]) {
      expect(splitCloud({ ...stamps, responseStart }, 40)).toEqual({ preprocess: 10, upload: 10, server: 40, download: 3, total: 63, source: 'fetch' });
    }
  });

  it('clamps upload at 0 when coarse timers put the first byte inside the server time; the sum then exceeds total by that much', () => {
    const s = splitCloud({ start: 0, sent: 1, headers: 40.9, parsed: 41, responseStart: null }, 40);
    expect(s.upload).toBe(0);
    expect(s.preprocess + s.upload + s.server + s.download - s.total).toBeCloseTo(0.1, 9);
  });

  it('adds its parts up to total exactly otherwise', () => {
    const s = splitCloud({ start: 3.005, sent: 20.115, headers: 97.42, parsed: 99.9, responseStart: 96.01 }, 60.2);
    expect(s.preprocess + s.upload + s.server + s.download).toBeCloseTo(s.total, 9);
  });
});

describe('timerResolution', () => {
  it('finds the smallest step of the clock', () => {
    let t = 0;
    expect(timerResolution(() => (t += 0.0025) - (t % 0.005))).toBeCloseTo(0.005, 9);
  });

  it('gives 0 for a clock that never moves, without spinning forever', () => {
    expect(timerResolution(() => 42, 2)).toBe(0);
  });
});

describe('median', () => {
  it('is the middle value, or the mean of the middle two', () => {
    expect(median([])).toBeNull();
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 3, 2])).toBe(2.5);
  });
});
