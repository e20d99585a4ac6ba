import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { JobView, RunView } from '@farm/contracts';
import { countRows, expectedRows, startTestFarm, until, type TestFarm } from './support';

/** About 2 s a run: low-end phones, InceptionV3, 12 iterations, 1/20 of modelled time. */
const SLOW = { SIM_TIME_SCALE: '0.05', SIM_PROFILES: 'low_end' };

function time(value: string | null): number {
  return value ? Date.parse(value) : Number.NaN;
}

describe('dispatch', () => {
  describe('on one device', () => {
    let farm: TestFarm;
    beforeAll(async () => {
      farm = await startTestFarm([{ name: 'solo', env: { SIM_DEVICES: '1', SIM_TIME_SCALE: '0.03', SIM_PROFILES: 'low_end' } }]);
    });
    afterAll(() => farm.stop());

    it('runs one run at a time, higher priority first', async () => {
      const low = await farm.api.submit({ name: 'low', models: ['mobilenet_v2', 'mobilenet_v2_mid', 'inception_v3'], scenarios: ['on_device', 'cloud'], devices: { tags: [farm.tag] }, iterations: 10, priority: 1 });
      await until(async () => (await farm.api.job(low.id)).progress.running > 0, 10_000, 'the first low-priority run');
      const high = await farm.api.submit({ name: 'high', models: ['mobilenet_v2'], scenarios: ['on_device', 'cloud'], devices: { tags: [farm.tag] }, iterations: 10, priority: 10 });
      const [lowDone, highDone] = [await farm.api.waitForJob(low.id), await farm.api.waitForJob(high.id)];
      expect(lowDone.progress.passed).toBe(6);
      expect(highDone.progress.passed).toBe(2);

      // Once the device has taken an urgent run, it takes no low-priority run before the last urgent
      // one has finished. Times are those of the transactions that took the reports: a run's claim
      // may share one with the finish before it, so a later start can equal an earlier finish.
      const highStarts = (highDone.runs ?? []).map((r) => time(r.startedAt));
      const lastHighFinish = Math.max(...(highDone.runs ?? []).map((r) => time(r.finishedAt)));
      const lowAfter = (lowDone.runs ?? []).filter((r) => time(r.startedAt) > Math.min(...highStarts));
      expect(lowAfter.length).toBeGreaterThan(0);
      for (const run of lowAfter) expect(time(run.startedAt)).toBeGreaterThanOrEqual(lastHighFinish);

      // Runs started in one transaction tie on their start; the one that finished first went first.
      const runs: RunView[] = [...(lowDone.runs ?? []), ...(highDone.runs ?? [])].sort(
        (a, b) => time(a.startedAt) - time(b.startedAt) || time(a.finishedAt) - time(b.finishedAt),
      );
      for (let i = 1; i < runs.length; i++) {
        expect(time(runs[i]?.startedAt ?? null)).toBeGreaterThanOrEqual(time(runs[i - 1]?.finishedAt ?? null));
      }
    });
  });

  describe('cancel and deadlines', () => {
    let farm: TestFarm;
    beforeAll(async () => {
      farm = await startTestFarm([{ name: 'cancel', env: { SIM_DEVICES: '2', ...SLOW } }]);
    });
    afterAll(() => farm.stop());

    it('cancel ends queued runs at once and running ones at their next phase boundary', async () => {
      const job = await farm.api.submit({ name: 'to-cancel', models: ['inception_v3'], scenarios: ['on_device', 'cloud'], devices: { tags: [farm.tag] }, iterations: 12 });
      await until(async () => (await farm.api.job(job.id)).progress.running === 2, 10_000, 'both devices busy');
      const cancelledAt = Date.now();
      const response = await farm.api.request<JobView>('POST', `/api/jobs/${job.id}/cancel`);
      expect(response.status).toBe(200);
      expect(response.body.status).toBe('cancelled');
      // The queued runs ended at once; the running ones are stopping (a fast one may already have).
      const { queued, cancelled, running } = response.body.progress;
      expect({ queued, stoppedOrStopping: cancelled + running }).toEqual({ queued: 0, stoppedOrStopping: 4 });
      expect(cancelled).toBeGreaterThanOrEqual(2);

      const done = await farm.api.waitForJob(job.id, { timeoutMs: 10_000, pollMs: 50 });
      // A low-end InceptionV3 phase is at most ~150 ms here; a whole run is ~2 s.
      expect(time(done.finishedAt) - cancelledAt).toBeLessThan(1_000);
      expect(done.status).toBe('cancelled');
      expect(done.progress).toMatchObject({ total: 4, cancelled: 4, passed: 0 });
      expect((await farm.api.summary(job.id)).groups).toEqual([]);

      const again = await farm.api.request('POST', `/api/jobs/${job.id}/cancel`);
      expect(again.status).toBe(409);
      const devices = await farm.api.request<{ state: string; tags: string[] }[]>('GET', '/api/devices?backend=simulated');
      expect(devices.body.filter((d) => d.tags.includes(farm.tag)).map((d) => d.state)).toEqual(['available', 'available']);
    });

    it('ends the runs of a job past its deadline as timed out', async () => {
      const job = await farm.api.submit({ name: 'late', models: ['inception_v3'], scenarios: ['on_device', 'cloud'], devices: { tags: [farm.tag] }, iterations: 12 });
      await until(async () => (await farm.api.job(job.id)).progress.running === 2, 10_000, 'both devices busy');
      await farm.db.query(`UPDATE jobs SET deadline_at = now() WHERE id = $1`, [job.id]);
      const done = await farm.api.waitForJob(job.id, { timeoutMs: 10_000 });
      expect(done.status).toBe('finished');
      expect(done.progress).toMatchObject({ total: 4, timedOut: 4 });
      expect(done.runs?.every((r) => r.errorKind === 'deadline')).toBe(true);
    });
  });

  describe('injected faults', () => {
    let farm: TestFarm;
    let serial: (n: number) => string;
    beforeAll(async () => {
      const name = 'faults';
      serial = (n) => `${farm.agentEnv(name)['AGENT_NAME']}-sim-00${n}`;
      farm = await startTestFarm([], {});
      await farm.stack.startAgent(
        farm.agentEnv(name, {
          SIM_DEVICES: '4',
          SIM_TIME_SCALE: '0.01',
          SIM_FAULTS: `fail:${serial(1)},lose:${serial(2)},hang:${serial(3)}`,
          SIM_RETURN_MS: '500',
          RUN_TIMEOUT_MS: '1500',
        }),
      );
      await until(async () => {
        const devices = await farm.api.request<{ tags: string[] }[]>('GET', '/api/devices?state=available');
        return devices.body.filter((d) => d.tags.includes(farm.tag)).length === 4;
      }, 30_000, 'the fault agent');
    });
    afterAll(() => farm.stop());

    it('fails and times out exactly the faulty devices, retries the lost one when it is back, and the job finishes', async () => {
      const job = await farm.api.submit({ name: 'faults', models: ['mobilenet_v2'], scenarios: ['on_device'], devices: { tags: [farm.tag] }, iterations: 5 });
      const done = await farm.api.waitForJob(job.id, { timeoutMs: 30_000 });
      const devices = await farm.api.request<{ id: string; serial: string; state: string }[]>('GET', '/api/devices?backend=simulated');
      const bySerial = new Map(devices.body.map((d) => [d.serial, d]));
      const resultOf = (n: number) => done.runs?.find((r) => r.deviceId === bySerial.get(serial(n))?.id);

      expect(resultOf(1)).toMatchObject({ result: 'failed', errorKind: 'benchmark' });
      // Unplugged mid-run, plugged back in half a second later: the second attempt passes.
      expect(resultOf(2)).toMatchObject({ result: 'passed', errorKind: null, attempt: 2 });
      expect(resultOf(3)).toMatchObject({ result: 'timed_out', errorKind: 'timeout' });
      expect(resultOf(4)).toMatchObject({ result: 'passed', errorKind: null });
      expect(bySerial.get(serial(2))?.state).toBe('available');
      expect(bySerial.get(serial(3))?.state).toBe('available');
      // Only the passing runs count; the others' partial rows stay out of every figure.
      const summary = await farm.api.summary(job.id);
      expect(new Set(summary.groups.map((g) => g.n))).toEqual(new Set([1, 5]));
      expect((await countRows(farm.db, job.id)).current).toBeGreaterThanOrEqual(2 * 21);
    });
  });

  describe('a device that never comes back', () => {
    let farm: TestFarm;
    let serial: (n: number) => string;
    beforeAll(async () => {
      const name = 'gone';
      serial = (n) => `${farm.agentEnv(name)['AGENT_NAME']}-sim-00${n}`;
      farm = await startTestFarm([], { DEVICE_RETURN_MS: '1500' });
      await farm.stack.startAgent(farm.agentEnv(name, { SIM_DEVICES: '2', SIM_TIME_SCALE: '0.01', SIM_FAULTS: `lose:${serial(1)}` }));
      await until(async () => {
        const devices = await farm.api.request<{ tags: string[]; state: string }[]>('GET', `/api/devices?tag=${farm.tag}&state=available`);
        return devices.body.length === 2;
      }, 30_000, 'the agent');
    });
    afterAll(() => farm.stop());

    it('waits DEVICE_RETURN_MS for it, then ends its retried run as errored instead of waiting for the deadline', async () => {
      const job = await farm.api.submit({ name: 'gone', models: ['mobilenet_v2'], scenarios: ['on_device'], devices: { tags: [farm.tag] }, iterations: 3 });
      const done = await farm.api.waitForJob(job.id, { timeoutMs: 20_000 });
      const devices = await farm.api.request<{ id: string; serial: string; state: string }[]>('GET', `/api/devices?tag=${farm.tag}`);
      const lost = devices.body.find((d) => d.serial === serial(1));
      expect(lost?.state).toBe('offline');
      expect(done.runs?.find((r) => r.deviceId === lost?.id)).toMatchObject({ result: 'errored', errorKind: 'device_offline', attempt: 2 });
      expect(done.runs?.find((r) => r.deviceId !== lost?.id)).toMatchObject({ result: 'passed' });
      // It waited for the device: the run ended DEVICE_RETURN_MS or more after the device was last seen.
      const { rows } = await farm.db.query<{ waited: number }>(
        `SELECT extract(epoch FROM r.finished_at - d.last_seen_at) * 1000 AS waited FROM runs r JOIN devices d ON d.id = r.device_id WHERE r.job_id = $1 AND d.id = $2`,
        [job.id, lost?.id],
      );
      expect(Number(rows[0]?.waited)).toBeGreaterThanOrEqual(1_500);
    });
  });

  describe('an agent stopped with SIGTERM', () => {
    let farm: TestFarm;
    beforeAll(async () => {
      farm = await startTestFarm([{ name: 'polite', env: { SIM_DEVICES: '2', ...SLOW } }]);
    });
    afterAll(() => farm.stop());

    it('finishes the runs it has started, takes no more, and the rest run when it is back', async () => {
      const job = await farm.api.submit({ name: 'sigterm', models: ['inception_v3', 'mobilenet_v2'], scenarios: ['on_device'], devices: { tags: [farm.tag] }, iterations: 12 });
      await until(async () => (await farm.api.job(job.id)).progress.running === 2, 10_000, 'both devices busy');
      const exit = await farm.stack.agents[0]?.stop('SIGTERM');
      expect(exit).toBe(0);
      const paused = await farm.api.job(job.id);
      expect(paused.progress).toMatchObject({ passed: 2, queued: 2, running: 0 });

      await farm.stack.startAgent(farm.agentEnv('polite', { SIM_DEVICES: '2', ...SLOW }));
      const done = await farm.api.waitForJob(job.id, { timeoutMs: 30_000 });
      expect(done.progress).toMatchObject({ total: 4, passed: 4 });
      expect(done.runs?.every((r) => r.attempt === 1)).toBe(true);
    });
  });

  describe('an agent stopped with SIGTERM while the API is down', () => {
    const env = { SIM_DEVICES: '2', ...SLOW, SHUTDOWN_GRACE_MS: '1000' };
    let farm: TestFarm;
    beforeAll(async () => {
      farm = await startTestFarm([{ name: 'cut-off', env }]);
    });
    afterAll(() => farm.stop());

    it("exits within its grace period and the reports' 5 s, leaving them in its outbox, and the next start sends them: no row lost or counted twice", async () => {
      const job = await farm.api.submit({ name: 'sigterm-api-down', models: ['inception_v3', 'mobilenet_v2'], scenarios: ['on_device'], devices: { tags: [farm.tag] }, iterations: 12 });
      await until(async () => (await farm.api.job(job.id)).progress.running === 2, 10_000, 'both devices busy');
      await farm.stack.api.stop();
      const stoppedAt = Date.now();
      const exit = await farm.stack.agents[0]?.stop('SIGTERM');
      expect(exit).toBe(0);
      expect(Date.now() - stoppedAt).toBeLessThan(1_000 + 5_000 + 2_000);
      const { OUTBOX_DIR, AGENT_NAME } = farm.agentEnv('cut-off', env);
      const outbox = readFileSync(path.join(OUTBOX_DIR ?? '', `${AGENT_NAME ?? ''}.jsonl`), 'utf8');
      expect(outbox).toContain('"type":"finish"');

      await farm.stack.restartApi();
      await farm.stack.startAgent(farm.agentEnv('cut-off', env));
      const done = await farm.api.waitForJob(job.id, { timeoutMs: 60_000 });
      expect(done.progress).toMatchObject({ total: 4, passed: 4 });
      expect((await countRows(farm.db, job.id)).current).toBe(4 * expectedRows('on_device', 12));
      const { rows } = await farm.db.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM (SELECT 1 FROM measurements m JOIN runs r ON r.id = m.run_id WHERE r.job_id = $1
           GROUP BY m.run_id, m.attempt, m.phase, m.iteration HAVING count(*) > 1) AS twice`,
        [job.id],
      );
      expect(rows[0]?.n).toBe(0);
    });
  });
});
