import { spawnSync } from 'node:child_process';
import { startTestFarm, type TestFarm } from './support';

/** Debian's `prometheus` package installs it (.ci/run does). */
const PROMTOOL = process.env['PROMTOOL_PATH'] ?? 'promtool';

function sample(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  const wanted = Object.entries(labels).map(([k, v]) => `${k}="${v}"`);
  const line = text.split('\n').find((l) => {
    if (!l.startsWith(`${name}{`) && !l.startsWith(`${name} `)) return false;
    return wanted.every((w) => l.includes(w));
  });
  return line === undefined ? undefined : Number(line.slice(line.lastIndexOf(' ') + 1));
}

describe('metrics', () => {
  let farm: TestFarm;
  beforeAll(async () => {
    farm = await startTestFarm([{ name: 'metrics', env: { SIM_DEVICES: '2' } }]);
  });
  afterAll(() => farm.stop());

  it('serves Prometheus metrics at /metrics that promtool accepts', async () => {
    const job = await farm.api.submit({ name: 'metrics', models: ['mobilenet_v2'], scenarios: ['on_device', 'cloud'], devices: { tags: [farm.tag] }, iterations: 3, warmup: 1 });
    await farm.api.waitForJob(job.id);

    expect((await fetch(`${farm.stack.apiUrl}/metrics`)).status).toBe(401);
    const response = await fetch(`${farm.stack.apiUrl}/metrics`, { headers: { accept: 'text/html,*/*', ...farm.auth } });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toContain('text/plain');
    const text = await response.text();

    const check = spawnSync(PROMTOOL, ['check', 'metrics'], { input: text, encoding: 'utf8' });
    expect(check.error).toBeUndefined();
    expect({ status: check.status, problems: `${check.stdout}${check.stderr}`.trim() }).toEqual({ status: 0, problems: '' });

    // 4 runs of this job passed; every test of the run shares the database, so at least that.
    expect(sample(text, 'farm_runs', { status: 'finished', result: 'passed' })).toBeGreaterThanOrEqual(4);
    expect(sample(text, 'farm_devices', { backend: 'simulated', state: 'available' })).toBeGreaterThanOrEqual(2);
    expect(sample(text, 'farm_agents', { state: 'online' })).toBeGreaterThanOrEqual(1);
    expect(sample(text, 'farm_agent_heartbeat_age_seconds', { agent: `metrics-${farm.tag.slice('test-'.length)}` })).toBeLessThan(5);
    expect(sample(text, 'farm_queue_jobs', { queue: 'device', state: 'waiting' })).toBe(0);
    // This API process stored the rows of the 4 runs: 17 a run on the device, 32 in the cloud.
    expect(sample(text, 'farm_measurements_ingested_total')).toBe(2 * (1 + 4 * 4) + 2 * 4 * 8);
    expect(sample(text, 'farm_run_duration_seconds_count', { scenario: 'cloud', result: 'passed' })).toBe(2);
    expect(sample(text, 'farm_phase_duration_seconds_count', { phase: 'inference' })).toBe(2 * 3);
    expect(sample(text, 'process_resident_memory_bytes')).toBeGreaterThan(0);
  });

  it('is not the dashboard and not under /api', async () => {
    expect((await fetch(`${farm.stack.apiUrl}/api/metrics`)).status).toBe(404);
    const docs = (await (await fetch(`${farm.stack.apiUrl}/api/docs/openapi.json`)).json()) as { paths: Record<string, unknown> };
    expect(Object.keys(docs.paths).some((p) => p.includes('metrics'))).toBe(false);
  });
});
