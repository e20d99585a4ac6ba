import type { DeviceView } from '@farm/contracts';
import { startTestFarm, until, type TestFarm } from './support';

/**
 * Device health against the real API, agent, Postgres and Redis: a device that fails its checks
 * before every run is quarantined after QUARANTINE_AFTER attempts in a row, its runs end as
 * errored instead of waiting on it, jobs no longer select it, and an operator can quarantine
 * and release devices through the API.
 */
describe('device quarantine', () => {
  let farm: TestFarm;
  let serial: (n: number) => string;
  const name = 'health';
  const devices = async (): Promise<Map<string, DeviceView>> => {
    const list = await farm.api.request<DeviceView[]>('GET', `/api/devices?tag=${farm.tag}`);
    return new Map(list.body.map((d) => [d.serial, d]));
  };
  const device = async (n: number): Promise<DeviceView> => {
    const found = (await devices()).get(serial(n));
    if (!found) throw new Error(`device ${serial(n)} is not registered`);
    return found;
  };

  beforeAll(async () => {
    farm = await startTestFarm([], { QUARANTINE_AFTER: '2' });
    serial = (n) => `${farm.agentEnv(name)['AGENT_NAME']}-sim-00${n}`;
    await farm.stack.startAgent(farm.agentEnv(name, { SIM_DEVICES: '3', SIM_TIME_SCALE: '0.01', SIM_FAULTS: `unfit:${serial(1)}` }));
    await until(async () => [...(await devices()).values()].filter((d) => d.state === 'available').length === 3, 30_000, 'the agent');
  });
  afterAll(() => farm.stop());

  it('quarantines a device whose checks fail twice in a row, and ends its runs instead of retrying them there', async () => {
    const job = await farm.api.submit({
      name: 'unfit',
      models: ['mobilenet_v2', 'mobilenet_v2_mid'],
      scenarios: ['on_device', 'cloud'],
      devices: { tags: [farm.tag] },
      iterations: 2,
    });
    const done = await farm.api.waitForJob(job.id, { timeoutMs: 30_000 });
    const unfit = await device(1);
    const runsOf = (deviceId: string) => done.runs?.filter((r) => r.deviceId === deviceId) ?? [];

    expect(unfit.state).toBe('quarantined');
    // Attempts that failed in the same report batch all count, so it may be more than two.
    expect(unfit.healthFailures).toBeGreaterThanOrEqual(2);
    expect(unfit.quarantine?.reason).toBe(`failed its checks ${unfit.healthFailures} times in a row; last: battery at 5%, below the minimum of 20% (simulated fault)`);
    expect(runsOf(unfit.id).map((r) => [r.result, r.errorKind])).toEqual(Array(4).fill(['errored', 'device_quarantined']));
    for (const n of [2, 3]) {
      const healthy = await device(n);
      expect(healthy).toMatchObject({ state: 'available', healthFailures: 0, quarantine: null });
      expect(runsOf(healthy.id).map((r) => r.result)).toEqual(['passed', 'passed', 'passed', 'passed']);
    }

    // A quarantined device is out of every selector until it is released.
    const next = await farm.api.submit({ name: 'after', models: ['mobilenet_v2'], scenarios: ['on_device'], devices: { tags: [farm.tag] }, iterations: 1 });
    expect(new Set(next.runs?.map((r) => r.deviceId))).toEqual(new Set([(await device(2)).id, (await device(3)).id]));
    await farm.api.waitForJob(next.id, { timeoutMs: 30_000 });

    const released = await farm.api.request<DeviceView>('POST', `/api/devices/${unfit.id}/release`);
    expect(released.status).toBe(200);
    expect(released.body).toMatchObject({ state: 'available', healthFailures: 0, quarantine: null });
    const again = await farm.api.request<{ message: string }>('POST', `/api/devices/${unfit.id}/release`);
    expect(again.status).toBe(409);
    expect(again.body.message).toMatch(/is not quarantined/);
  });

  it('lets an operator quarantine a device: its queued runs end, the one running finishes', async () => {
    const target = await device(2);
    const job = await farm.api.submit({
      name: 'operator',
      models: ['inception_v3', 'mobilenet_v2'],
      scenarios: ['on_device', 'cloud'],
      devices: { ids: [target.id] },
      iterations: 30,
    });
    await until(async () => (await farm.api.job(job.id)).progress.running === 1, 10_000, 'a run under way');
    const quarantined = await farm.api.request<DeviceView>('POST', `/api/devices/${target.id}/quarantine`, { reason: 'cracked screen' });
    expect(quarantined.status).toBe(200);
    expect(quarantined.body.state).toBe('quarantined');
    expect(quarantined.body.quarantine?.reason).toBe('by an operator: cracked screen');

    const done = await farm.api.waitForJob(job.id, { timeoutMs: 30_000 });
    expect(done.runs?.map((r) => r.result).sort()).toEqual(['errored', 'errored', 'errored', 'passed']);
    expect(done.runs?.filter((r) => r.result === 'errored').every((r) => r.errorKind === 'device_quarantined')).toBe(true);
    // The run that was under way finished; the device stays out of service.
    expect((await device(2)).state).toBe('quarantined');
    expect((await farm.api.request('POST', `/api/devices/${target.id}/quarantine`, { reason: 'twice' })).status).toBe(409);
    expect((await farm.api.request('POST', `/api/devices/${target.id}/release`)).status).toBe(200);
  });

  it('answers bad quarantine requests with the field at fault, and changes nothing', async () => {
    const target = await device(3);
    const cases: [unknown, RegExp][] = [
      [{}, /reason/],
      [{ reason: '   ' }, /reason/],
      [{ reason: 'x'.repeat(501) }, /reason/],
      [{ reason: 'ok', extra: 1 }, /extra|unrecognized/i],
    ];
    for (const [body, field] of cases) {
      const response = await farm.api.request<{ details: { path: string; message: string }[] }>('POST', `/api/devices/${target.id}/quarantine`, body);
      expect(response.status).toBe(400);
      expect(JSON.stringify(response.body.details)).toMatch(field);
    }
    expect((await device(3)).state).toBe('available');
    const unknown = await farm.api.request<{ message: string }>('POST', '/api/devices/00000000-0000-4000-8000-000000000000/quarantine', { reason: 'x' });
    expect(unknown.status).toBe(404);
    expect((await farm.api.request('POST', '/api/devices/not-a-uuid/release')).status).toBe(400);
  });
});
