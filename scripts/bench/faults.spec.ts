import { faultOptions } from './faults';

describe('bench:faults options', () => {
  it('defaults to every fault with 10 s outages', () => {
    expect(faultOptions({})).toEqual({ outageMs: 10_000 });
    expect(faultOptions({ FAULT_OUTAGE_MS: '2000', FAULTS_ONLY: 'Redis' })).toEqual({ outageMs: 2_000, only: 'Redis' });
  });

  it.each([
    [{ FAULT_OUTAGE_MS: 'ten' }, /FAULT_OUTAGE_MS must be a whole number of milliseconds/],
    [{ FAULT_OUTAGE_MS: '-5' }, /FAULT_OUTAGE_MS must be a whole number of milliseconds/],
    [{ FAULT_OUTAGE_MS: '' }, /FAULT_OUTAGE_MS must be a whole number of milliseconds/],
    [{ FAULTS_ONLY: 'meteor' }, /FAULTS_ONLY "meteor" names no fault; the faults are: agent SIGKILL mid-run, /],
  ])('refuses %j, naming what is wrong', (env, message) => {
    expect(() => faultOptions(env)).toThrow(message);
  });
});
