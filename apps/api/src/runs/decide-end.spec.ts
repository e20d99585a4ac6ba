import { assignmentOf, decideEnd } from './run-lifecycle.service';
import type { LockedRun } from './runs.repository';

function run(overrides: Partial<LockedRun> = {}): LockedRun {
  return {
    id: '11111111-1111-4111-8111-111111111111',
    jobId: '22222222-2222-4222-8222-222222222222',
    deviceId: '33333333-3333-4333-8333-333333333333',
    agentId: '44444444-4444-4444-8444-444444444444',
    model: 'mobilenet_v2',
    scenario: 'on_device',
    attempt: 1,
    status: 'running',
    jobStatus: 'running',
    maxAttempts: 2,
    priority: 5,
    iterations: 10,
    warmup: 2,
    network: 'wifi',
    deadlineAt: new Date('2030-01-01T00:00:00Z'),
    healthFailures: 0,
    startedAt: null,
    queuedAt: new Date('2029-12-31T23:00:00Z'),
    ...overrides,
  };
}

describe('decideEnd', () => {
  it('passes an attempt that reports no error', () => {
    expect(decideEnd(run(), undefined)).toMatchObject({ status: 'finished', result: 'passed', attempt: 1, errorKind: null });
  });

  it('retries an infrastructure failure while attempts remain, and then gives up as errored', () => {
    const lost = { kind: 'agent_lost' as const, message: 'gone' };
    expect(decideEnd(run(), lost)).toMatchObject({ status: 'queued', result: null, attempt: 2, errorKind: 'agent_lost' });
    expect(decideEnd(run({ attempt: 2 }), lost)).toMatchObject({ status: 'finished', result: 'errored', attempt: 2 });
  });

  it('never retries a failed benchmark, a device that stayed away or was quarantined, or a timeout', () => {
    expect(decideEnd(run(), { kind: 'benchmark', message: 'x' })).toMatchObject({ status: 'finished', result: 'failed' });
    expect(decideEnd(run(), { kind: 'device_offline', message: 'x' })).toMatchObject({ status: 'finished', result: 'errored' });
    expect(decideEnd(run(), { kind: 'device_quarantined', message: 'x' })).toMatchObject({ status: 'finished', result: 'errored' });
    expect(decideEnd(run(), { kind: 'timeout', message: 'x' })).toMatchObject({ status: 'finished', result: 'timed_out' });
  });

  it('retries a lost device once, for when it comes back, and an unfit one', () => {
    expect(decideEnd(run(), { kind: 'device_lost', message: 'x' })).toMatchObject({ status: 'queued', attempt: 2, errorKind: 'device_lost' });
    expect(decideEnd(run({ attempt: 2 }), { kind: 'device_lost', message: 'x' })).toMatchObject({ status: 'finished', result: 'errored' });
    expect(decideEnd(run(), { kind: 'device_unfit', message: 'x' })).toMatchObject({ status: 'queued', attempt: 2 });
  });

  it('ends every attempt of a cancelled job as cancelled, whatever went wrong', () => {
    expect(decideEnd(run({ jobStatus: 'cancelled' }), { kind: 'agent_lost', message: 'x' })).toMatchObject({ status: 'finished', result: 'cancelled' });
  });

  it('builds the next attempt with the job settings', () => {
    expect(assignmentOf(run(), 2)).toEqual({
      runId: run().id,
      jobId: run().jobId,
      attempt: 2,
      deviceId: run().deviceId,
      model: 'mobilenet_v2',
      scenario: 'on_device',
      iterations: 10,
      warmup: 2,
      network: 'wifi',
      deadlineAt: '2030-01-01T00:00:00.000Z',
    });
  });
});
