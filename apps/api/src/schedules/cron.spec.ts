import { cronProblem, nextFireTimes } from './cron';

describe('nextFireTimes', () => {
  it('follows the time zone across a daylight-saving change (02:00 comes twice on 25 October: the first)', () => {
    const sut = nextFireTimes('0 2 * * *', 'Europe/Paris', new Date('2026-10-24T12:00:00Z'), 3);
    expect(sut.map((d) => d.toISOString())).toEqual(['2026-10-25T00:00:00.000Z', '2026-10-26T01:00:00.000Z', '2026-10-27T01:00:00.000Z']);
  });

  it('names what is wrong with a bad expression', () => {
    expect(cronProblem('0 2 * * *', 'UTC')).toBeNull();
    expect(cronProblem('61 2 * * *', 'UTC')).toMatch(/not a cron expression/);
    expect(cronProblem('every night', 'UTC')).toMatch(/not a cron expression/);
  });
});
