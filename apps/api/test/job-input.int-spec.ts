import { FarmApi } from '@farm/client';
import type { ApiError, JobSpecInput } from '@farm/contracts';
import { startTestFarm, type TestFarm } from './support';

const valid: JobSpecInput = { name: 'ok', models: ['mobilenet_v2'], scenarios: ['on_device'], iterations: 2 };

/** Each kind of invalid field, and the path the 400 must name. */
const INVALID: [string, unknown, string][] = [
  ['missing name', { ...valid, name: undefined }, 'name'],
  ['blank name', { ...valid, name: '   ' }, 'name'],
  ['models not a list', { ...valid, models: 'mobilenet_v2' }, 'models'],
  ['no models', { ...valid, models: [] }, 'models'],
  ['malformed model name', { ...valid, models: ['Mobile Net!'] }, 'models[0]'],
  ['repeated model', { ...valid, models: ['mobilenet_v2', 'mobilenet_v2'] }, 'models'],
  ['unknown scenario', { ...valid, scenarios: ['on_device', 'gpu'] }, 'scenarios[1]'],
  ['zero iterations', { ...valid, iterations: 0 }, 'iterations'],
  ['fractional iterations', { ...valid, iterations: 1.5 }, 'iterations'],
  ['iterations as a string', { ...valid, iterations: '10' }, 'iterations'],
  ['negative warm-up', { ...valid, warmup: -1 }, 'warmup'],
  ['priority out of range', { ...valid, priority: 11 }, 'priority'],
  ['zero deadline', { ...valid, deadlineMinutes: 0 }, 'deadlineMinutes'],
  ['network label with spaces', { ...valid, network: 'Wi Fi' }, 'network'],
  ['unknown backend', { ...valid, devices: { backend: 'ios' } }, 'devices.backend'],
  ['bad OS version constraint', { ...valid, devices: { osVersion: 'thirteen' } }, 'devices.osVersion'],
  ['device id not a UUID', { ...valid, devices: { ids: ['phone-1'] } }, 'devices.ids[0]'],
  ['zero maxDevices', { ...valid, devices: { maxDevices: 0 } }, 'devices.maxDevices'],
  ['unknown selector field', { ...valid, devices: { colour: 'red' } }, 'devices.colour'],
  ['unknown top-level field', { ...valid, colour: 'red' }, 'colour'],
  ['zero attempts', { ...valid, maxAttempts: 0 }, 'maxAttempts'],
];

describe('POST /api/jobs with bad input', () => {
  let farm: TestFarm;

  beforeAll(async () => {
    farm = await startTestFarm([{ name: 'input', env: { SIM_DEVICES: '2' } }]);
  });
  afterAll(() => farm.stop());

  async function tableCounts(): Promise<string> {
    const { rows } = await farm.db.query<{ jobs: number; runs: number; measurements: number }>(
      `SELECT (SELECT count(*) FROM jobs)::int AS jobs, (SELECT count(*) FROM runs)::int AS runs,
              (SELECT count(*) FROM measurements)::int AS measurements`,
    );
    return JSON.stringify(rows[0]);
  }

  it.each(INVALID.map(([what, body, path]) => ({ what, body, path })))('$what: 400 naming $path, nothing written', async ({ body, path }) => {
    const before = await tableCounts();
    const response = await farm.api.request<ApiError>('POST', '/api/jobs', { ...(body as object), devices: { tags: [farm.tag], ...(body as { devices?: object }).devices } });
    expect(response.status).toBe(400);
    expect(response.body).toMatchObject({ statusCode: 400, error: 'Bad Request', message: expect.any(String) });
    expect(response.body.details.map((d) => d.path)).toContain(path);
    expect(await tableCounts()).toBe(before);
  });

  it('names every bad field of a spec at once', async () => {
    const response = await farm.api.request<ApiError>('POST', '/api/jobs', { models: [], scenarios: ['x'], iterations: -1 });
    expect(response.status).toBe(400);
    expect(response.body.details.map((d) => d.path).sort()).toEqual(['iterations', 'models', 'name', 'scenarios[0]']);
  });

  it('answers malformed JSON with 400', async () => {
    const before = await tableCounts();
    const response = await fetch(`${farm.stack.apiUrl}/api/jobs`, { method: 'POST', headers: { 'content-type': 'application/json', ...farm.auth }, body: '{"name": ' });
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({ statusCode: 400, details: [] });
    expect(await tableCounts()).toBe(before);
  });

  it('answers an unknown model with 422 naming it, nothing written', async () => {
    const before = await tableCounts();
    const response = await farm.api.request<ApiError>('POST', '/api/jobs', { ...valid, models: ['mobilenet_v2', 'resnet_50'], devices: { tags: [farm.tag] } });
    expect(response.status).toBe(422);
    expect(response.body.details).toEqual([{ path: 'models[1]', message: expect.stringContaining('resnet_50') }]);
    expect(await tableCounts()).toBe(before);
  });

  it('answers a selector that matches no device with 422, nothing written', async () => {
    const before = await tableCounts();
    // A device must carry every tag asked for: none here is both of this farm and a flagship. A
    // manufacturer is a name, not a pattern: `_` is no wildcard.
    const selectors = [
      { tags: ['no-such-rack'] },
      { tags: [farm.tag, 'profile:flagship'] },
      { tags: [farm.tag], manufacturer: 'Sim_lated' },
      { backend: 'android' },
      { tags: [farm.tag], osVersion: '>=99' },
    ];
    for (const devices of selectors) {
      const response = await farm.api.request<ApiError>('POST', '/api/jobs', { ...valid, devices });
      expect(response.status).toBe(422);
      expect(response.body.details[0]?.path).toBe('devices');
    }
    expect(await tableCounts()).toBe(before);
  });

  it('honours the selector: OS version constraints, maxDevices, model, manufacturer and tags', async () => {
    const all = await farm.api.submit({ ...valid, devices: { tags: [farm.tag], osVersion: '>=7' } });
    expect(all.progress.total).toBe(2);
    const one = await farm.api.submit({ ...valid, devices: { tags: [farm.tag], maxDevices: 1 } });
    expect(one.progress.total).toBe(1);
    const lowEnd = await farm.api.submit({ ...valid, devices: { tags: [farm.tag], osVersion: '<8', manufacturer: 'simulated' } });
    expect(lowEnd.runs?.map((r) => r.deviceId)).toHaveLength(1);
    // Model and manufacturer match without regard to case; tags all at once.
    const midRange = await farm.api.submit({ ...valid, devices: { tags: [farm.tag], model: 'SIM MID-RANGE 2020' } });
    const tagged = await farm.api.submit({ ...valid, devices: { tags: [farm.tag, 'profile:mid_range'] } });
    expect(midRange.progress.total).toBe(1);
    expect(tagged.runs?.map((r) => r.deviceId)).toEqual(midRange.runs?.map((r) => r.deviceId));
    expect(tagged.runs?.[0]?.deviceId).not.toBe(lowEnd.runs?.[0]?.deviceId);
  });

  it('refuses agent routes without an agent token', async () => {
    expect((await new FarmApi(farm.stack.apiUrl).request<ApiError>('POST', '/api/agents/register', {})).status).toBe(401);
    const asAdmin = await farm.api.request<ApiError>('POST', '/api/agents/register', {});
    expect([asAdmin.status, asAdmin.body.message]).toEqual([403, 'this route is for agents, with their own agent token']);
  });
});
