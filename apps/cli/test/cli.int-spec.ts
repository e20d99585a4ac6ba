import { randomUUID } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { AgentView, DeviceView, JobSummary, JobView, Page, StudyAnswer } from '@farm/contracts';
import { startService, waitForHttp, type Service } from '../../../scripts/lib/processes';
import { countRows, startTestFarm, until, within, type TestFarm } from '../../api/test/support';
import { EXIT } from '../src/exit';
import { farmCli, type CliResult } from './cli';

/** A port nothing listens on: one the system just handed out and that was closed again. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** Lines after the header: the simulated fleet's names need no quoting, so a line is a row. */
function csvRows(text: string): number {
  return text.split('\n').filter((line) => line !== '').length - 1;
}

/** `farm` as a separate process against the real API, agents, PostgreSQL and Redis. */
describe('farm, the command line', () => {
  let farm: TestFarm;
  let dir: string;
  let healthy: string[];
  let faulty: string;
  /** A finished job of two passed runs, from the flags test. */
  let exported = '';
  const cli = (...args: string[]): Promise<CliResult> => farmCli(args, { cwd: dir, env: { FARM_API_URL: farm.stack.apiUrl, FARM_TOKEN: farm.stack.token } });
  const jobCount = async () => (await farm.api.request<Page<JobView>>('GET', '/api/jobs?limit=1')).body.total;
  const file = (name: string, text: string) => {
    writeFileSync(path.join(dir, name), text);
    return name;
  };

  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'farm-cli-'));
    const name = 'cli';
    const serial = (n: number) => `${farm.agentEnv(name)['AGENT_NAME']}-sim-00${n}`;
    farm = await startTestFarm([]);
    await farm.stack.startAgent(farm.agentEnv(name, { SIM_DEVICES: '3', SIM_TIME_SCALE: '0.01', SIM_FAULTS: `fail:${serial(3)}` }));
    const devices = await until(async () => {
      const list = await farm.api.devices({ tag: farm.tag, state: 'available' });
      return list.length === 3 && list;
    }, 30_000, 'the agent and its devices');
    healthy = devices.filter((d) => d.serial !== serial(3)).map((d) => d.id);
    faulty = devices.find((d) => d.serial === serial(3))?.id ?? '';
  });
  /** The API started in place of the farm's own by the restart test; stopped after the agents. */
  let restartedApi: Service | undefined;
  afterAll(async () => {
    await farm.stop();
    await restartedApi?.stop();
  });

  it('submits a job from a YAML file and watches it to the end: live counts, the figures, exit 0', async () => {
    const job = file(
      'nightly.yaml',
      ['name: cli-yaml', 'models: [mobilenet_v2]', 'scenarios: [on_device, cloud]', 'devices:', `  ids: [${healthy.join(', ')}]`, 'iterations: 3', 'warmup: 1', ''].join('\n'),
    );
    const sut = await cli('submit', job, '--watch');
    expect({ code: sut.code, stderr: sut.stderr }).toMatchObject({ code: EXIT.ok, stderr: expect.stringMatching(/^job [0-9a-f-]{36} submitted: 4 runs\n/) });
    const id = /^job ([0-9a-f-]{36})/.exec(sut.stderr)?.[1] ?? '';
    // Not a terminal: plain lines of counts, ending with the finished job's.
    expect(sut.stderr).not.toContain('\r');
    expect(sut.stderr).toMatch(/^4\/4 runs {2}queued 0 {2}running 0 {2}passed 4 {2}failed 0 {2}errored 0 {2}cancelled 0 {2}timed out 0 {2}finished \(\d+s\)$/m);
    expect(sut.stdout).toContain('Per-phase figures in ms');
    expect(sut.stdout).toMatch(/^Sim [\w -]+ {2,}simulated {2}mobilenet_v2 {2}on_device {2}model_load \(cold\)/m);
    expect(sut.stdout).toContain('On-device versus cloud');
    expect(sut.stdout.trimEnd().endsWith('job finished: 4/4 runs passed')).toBe(true);
    const done = await farm.api.job(id);
    expect(done).toMatchObject({ name: 'cli-yaml', status: 'finished', progress: { total: 4, passed: 4 } });
    // The study table has one row per device model × CNN, each with its ratio.
    const { pairs } = await farm.api.study(id);
    for (const pair of pairs) expect(sut.stdout).toContain(`${pair.ratio?.estimate.toFixed(2)}x`);
  });

  it('submits from flags with --json: the job, then the watched job, its summary and study, all parseable', async () => {
    const submitted = await cli('--json', 'submit', '--name', 'cli-flags', '-m', 'mobilenet_v2', '--scenario', 'cloud', '--device-id', healthy.join(','), '-n', '2', '--warmup', '1', '--network', 'lan');
    expect(submitted.code).toBe(EXIT.ok);
    const job = JSON.parse(submitted.stdout) as JobView;
    expect(job).toMatchObject({ name: 'cli-flags', progress: { total: 2 } });
    expect(job.runs?.map((r) => r.deviceId).sort()).toEqual([...healthy].sort());

    const watched = await cli('watch', job.id, '--json');
    expect(watched.code).toBe(EXIT.ok);
    const out = JSON.parse(watched.stdout) as { job: JobView; summary: JobSummary; study: StudyAnswer };
    expect(out.job).toMatchObject({ id: job.id, status: 'finished', progress: { passed: 2 } });
    expect(out.summary).toEqual(await farm.api.summary(job.id));
    expect(out.study).toEqual(await farm.api.study(job.id));
    expect(watched.stderr).toContain('2/2 runs');
    exported = job.id;
  });

  it('exports the measurements to a file with as many rows as the API holds, and the summary to stdout', async () => {
    const sut = await cli('export', exported, '-o', 'measurements.csv');
    expect(sut.code).toBe(EXIT.ok);
    const text = readFileSync(path.join(dir, 'measurements.csv'), 'utf8');
    const { total } = (await farm.api.request<Page<unknown>>('GET', `/api/jobs/${exported}/measurements?limit=1`)).body;
    expect(total).toBe((await countRows(farm.db, exported)).current);
    expect(total).toBeGreaterThan(0);
    expect(text.split('\n')[0]).toBe('run_id,device_id,device_model,backend,model,scenario,attempt,iteration,warmup,phase,duration_ms,energy_mj,energy_method');
    expect(csvRows(text)).toBe(total);
    expect(sut.stdout).toBe(`wrote ${total} measurements to measurements.csv\n`);
    expect(readdirSync(dir).filter((f) => f.endsWith('.part'))).toEqual([]);

    const json = await cli('--json', 'export', exported, '--phase', 'total', '--no-warmup', '-o', 'totals.csv');
    const totals = (await farm.api.request<Page<{ warmup: boolean }>>('GET', `/api/jobs/${exported}/measurements?phase=total&limit=1000`)).body.items.filter((m) => !m.warmup);
    expect(JSON.parse(json.stdout)).toEqual({ file: 'totals.csv', rows: totals.length });
    expect(csvRows(readFileSync(path.join(dir, 'totals.csv'), 'utf8'))).toBe(totals.length);

    const summary = await cli('export', exported, '--summary');
    expect(summary.code).toBe(EXIT.ok);
    expect(csvRows(summary.stdout)).toBe((await farm.api.summary(exported)).groups.length);
    expect(summary.stderr).toBe(`${(await farm.api.summary(exported)).groups.length} summary groups\n`);
  });

  it('lists devices and agents, as tables and as JSON', async () => {
    const devices = await cli('devices', '--tag', farm.tag);
    expect(devices.code).toBe(EXIT.ok);
    for (const id of [...healthy, faulty]) expect(devices.stdout).toContain(id);
    expect(devices.stdout).toMatch(/^3 devices$/m);
    const json = JSON.parse((await cli('--json', 'devices', '--backend', 'simulated', '--tag', farm.tag)).stdout) as DeviceView[];
    expect(json.map((d) => d.id).sort()).toEqual([...healthy, faulty].sort());

    const agents = JSON.parse((await cli('agents', '--json')).stdout) as AgentView[];
    const ours = agents.find((a) => a.name === farm.agentEnv('cli')['AGENT_NAME']);
    expect(ours).toMatchObject({ state: 'online', devices: 3, backends: ['simulated'] });
    const table = await cli('agents');
    expect(table.stdout).toMatch(new RegExp(`^${ours?.name} +${ours?.id} .* online +simulated +3 +\\d+ s ago$`, 'm'));
  });

  it('exits 3 for a job that finished with a failed run, and says which run failed and why', async () => {
    const sut = await cli('submit', '--name', 'cli-fails', '-m', 'mobilenet_v2', '-s', 'on_device', '--device-id', faulty, '-n', '2', '--watch');
    expect(sut.code).toBe(EXIT.jobNotPassed);
    expect(sut.stdout).toContain('No figures: no run has passed.');
    expect(sut.stdout).toMatch(/^run [0-9a-f-]{36} mobilenet_v2\/on_device: failed \(benchmark: .+\)$/m);
    expect(sut.stdout.trimEnd().endsWith('job finished: 0/1 runs passed')).toBe(true);
    expect(sut.stderr).toContain('1/1 runs  queued 0  running 0  passed 0  failed 1');
  });

  it('cancels a job; watching it then exits 3', async () => {
    const long = JSON.parse((await cli('--json', 'submit', '--name', 'cli-cancel', '-m', 'inception_v3', '-s', 'on_device', '--device-id', healthy.join(','), '-n', '5000')).stdout) as JobView;
    const cancelled = await cli('cancel', long.id);
    expect(cancelled.code).toBe(EXIT.ok);
    expect(cancelled.stdout).toMatch(new RegExp(`^job ${long.id} cancelled: `));
    const watched = await cli('watch', long.id);
    expect(watched.code).toBe(EXIT.jobNotPassed);
    expect(watched.stdout.trimEnd().endsWith('job cancelled: 0/2 runs passed')).toBe(true);
    const again = await cli('cancel', long.id);
    expect(again).toMatchObject({ code: EXIT.badInput, stderr: `farm: the API refused it (409 Conflict): job ${long.id} has already been cancelled\n` });
  });

  it('draws a bar redrawn in place on a terminal', async () => {
    const sut = await farmCli(['watch', exported], { cwd: dir, env: { FARM_API_URL: farm.stack.apiUrl, FARM_TOKEN: farm.stack.token }, terminal: true });
    expect(sut.code).toBe(EXIT.ok);
    // Each redraw returns to the line's start and erases it (ESC [2K) before it writes the bar.
    expect(sut.stdout).toContain('\r\u001b[2K[');
    expect(sut.stdout).toMatch(/\[#+\] 2\/2 runs {2}queued 0 {2}running 0 {2}passed 2 {2}failed 0 {2}\d+s/);
  });

  describe('bad input', () => {
    it('a missing file, unparsable YAML and a file the schema refuses: exit 2, what is wrong named, nothing submitted', async () => {
      const before = await jobCount();
      const missing = await cli('submit', 'nowhere.yaml');
      expect(missing).toMatchObject({ code: EXIT.badInput, stdout: '', stderr: 'farm: cannot read the job file nowhere.yaml: no such file\n' });

      const broken = await cli('submit', file('broken.yaml', 'name: x\nmodels: [mobilenet_v2\nscenarios: [cloud]\n'));
      expect(broken.code).toBe(EXIT.badInput);
      expect(broken.stderr).toMatch(/^farm: the job file broken.yaml is not valid YAML:\n.*line \d+, column \d+/);

      const invalid = await cli('submit', file('invalid.json', JSON.stringify({ name: 'x', models: ['mobilenet_v2'], scenarios: ['cloud'], iterations: 0, devices: { tags: [farm.tag], size: 3 } })));
      expect(invalid).toMatchObject({ code: EXIT.badInput, stdout: '' });
      expect(invalid.stderr).toBe('farm: invalid.json is not a valid job:\n  devices.size: is not a known field\n  iterations: Too small: expected number to be >=1\n');
      expect(await jobCount()).toBe(before);
    });

    it("an unknown flag, and the API's 422 with the field it names", async () => {
      const flag = await cli('submit', '--iteratoins', '3');
      expect(flag).toMatchObject({ code: EXIT.badInput, stdout: '' });
      expect(flag.stderr).toContain("error: unknown option '--iteratoins'");
      expect(flag.stderr).toContain('(Did you mean --iterations?)');

      const unknownModel = await cli('submit', '--name', 'x', '-m', 'resnet_9000', '-s', 'cloud', '-n', '1', '--tag', farm.tag);
      expect(unknownModel.code).toBe(EXIT.badInput);
      expect(unknownModel.stderr).toMatch(/^farm: the API refused it \(422 Unprocessable Entity\): .*\n {2}models\[0\]: unknown model "resnet_9000"/);
    });

    it('a token the API rejects, none at all, and a viewer that may not submit: exit 4, saying which', async () => {
      const as = (token: string) => (...args: string[]) => farmCli(args, { cwd: dir, env: { FARM_API_URL: farm.stack.apiUrl, FARM_TOKEN: token } });
      const rejected = await as('farm_not-a-token')('devices');
      expect(rejected).toMatchObject({ code: EXIT.auth, stdout: '' });
      expect(rejected.stderr).toBe('farm: token rejected: the API did not accept the token (the token is not valid)\n');

      const none = await as('')('devices');
      expect(none.code).toBe(EXIT.auth);
      expect(none.stderr).toContain('token rejected: the API needs a token; pass --token or set FARM_TOKEN');

      const before = await jobCount();
      const viewer = as(await farm.stack.createToken({ role: 'viewer', name: 'cli-viewer' }));
      expect((await viewer('devices')).code).toBe(EXIT.ok);
      const submit = await viewer('submit', '--name', 'x', '-m', 'mobilenet_v2', '-s', 'cloud', '-n', '1', '--tag', farm.tag);
      expect(submit.code).toBe(EXIT.auth);
      expect(submit.stderr).toMatch(/^farm: not allowed: the token may not do this \(a viewer token may not do this/);
      expect(await jobCount()).toBe(before);
    });

    it('an API nothing listens on: exit 6 in a bounded time, saying so', async () => {
      const port = await closedPort();
      for (const args of [['devices'], ['watch', randomUUID()], ['submit', '--name', 'x', '-m', 'mobilenet_v2', '-s', 'cloud', '-n', '1']]) {
        const sut = await farmCli(['--api', `http://127.0.0.1:${port}`, ...args], { cwd: dir, timeoutMs: 30_000 });
        expect({ args, code: sut.code }).toEqual({ args, code: EXIT.unreachable });
        expect(sut.stderr).toBe(`farm: cannot reach the API at http://127.0.0.1:${port}/: connection refused (is the API running?)\n  (the API's address comes from --api or FARM_API_URL)\n`);
        expect(sut.ms).toBeLessThan(15_000);
      }
    });

    it('a job that does not exist: exit 5, and an export of it leaves no file', async () => {
      const unknown = randomUUID();
      for (const args of [['watch', unknown], ['summary', unknown], ['cancel', unknown], ['export', unknown, '-o', 'gone.csv']]) {
        const sut = await cli(...args);
        expect({ args, code: sut.code, stderr: sut.stderr }).toEqual({ args, code: EXIT.notFound, stderr: `farm: not found: job ${unknown} does not exist\n` });
      }
      expect(existsSync(path.join(dir, 'gone.csv'))).toBe(false);
      expect(readdirSync(dir).filter((f) => f.endsWith('.part'))).toEqual([]);
    });
  });

  // Last: it replaces the farm's API process with a new one on the same port.
  it('reopens the event stream when the API restarts, and still sees the job end', async () => {
    const job = await farm.api.submit({ name: 'cli-restart', models: ['inception_v3'], scenarios: ['on_device'], devices: { ids: healthy }, iterations: 5000 });
    let following = false;
    const watching = farmCli(['watch', job.id], { cwd: dir, env: { FARM_API_URL: farm.stack.apiUrl, FARM_TOKEN: farm.stack.token }, onStderr: (text) => (following = text.includes(' runs ')) });
    await until(() => Promise.resolve(following), 30_000, 'the CLI to show progress');
    // Each step bounded and named: a step that hangs (it happened once in CI, and not again)
    // says which it was, and what the job's runs were doing then.
    await within(30_000, 'the API to stop', farm.stack.api.stop());
    restartedApi = startService('api', 'apps/api/src/main.ts', farm.stack.env, { quiet: true });
    await waitForHttp(`${farm.stack.apiUrl}/api/health`, restartedApi, 30_000);
    await within(10_000, 'the cancel', farm.api.cancel(job.id));
    const sut = await within(45_000, 'the watch to end', watching).catch(async (error: unknown) => {
      const { rows } = await farm.db.query(`SELECT status::text, result::text, attempt, error_kind, lease_expires_at FROM runs WHERE job_id = $1`, [job.id]);
      throw new Error(`${String(error)}; the job's runs: ${JSON.stringify(rows)}`);
    });
    expect(sut.stderr).toMatch(/lost the job's events \(.+\); reconnecting/);
    expect(sut.code).toBe(EXIT.jobNotPassed);
    expect(sut.stdout.trimEnd().endsWith('job cancelled: 0/2 runs passed')).toBe(true);
  }, 180_000);
});
