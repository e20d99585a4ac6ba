import type { Measurement, RunAssignment } from '@farm/contracts';
import { PHASES_BY_SCENARIO } from '@farm/contracts';
import { RunError, type RunContext } from '../backend';
import { parseFaults, parseSlowdowns } from './faults';
import { SimulatedBackend } from './simulated.backend';
import { TimingModel } from './timing-model';
import { CNN_COSTS, costBySize, PROFILES } from './profiles';

function assignment(overrides: Partial<RunAssignment> = {}): RunAssignment {
  return {
    runId: '11111111-1111-4111-8111-111111111111',
    jobId: '22222222-2222-4222-8222-222222222222',
    attempt: 1,
    deviceId: '33333333-3333-4333-8333-333333333333',
    model: 'inception_v3',
    scenario: 'on_device',
    iterations: 4,
    warmup: 1,
    network: 'wifi',
    deadlineAt: '2030-01-01T00:00:00.000Z',
    ...overrides,
  };
}

function context(run: RunAssignment, controller = new AbortController()): RunContext & { rows: Measurement[] } {
  const rows: Measurement[] = [];
  return {
    assignment: run,
    signal: controller.signal,
    rows,
    checkpoint: () => {
      if (controller.signal.aborted) throw controller.signal.reason as Error;
    },
    status: () => undefined,
    describe: () => undefined,
    record: (m) => rows.push(m),
  };
}

function backend(faults = '', slowdown = ''): SimulatedBackend {
  const plan = parseFaults(faults);
  const slowdowns = parseSlowdowns(slowdown);
  if (typeof plan === 'string') throw new Error(plan);
  if (typeof slowdowns === 'string') throw new Error(slowdowns);
  // Nothing listens on the discard port: only registered models would ask the API.
  return new SimulatedBackend({ agentName: 'a', devices: 3, profiles: ['low_end', 'mid_range', 'flagship'], timeScale: 0, faults: { ...plan, slowdowns }, tags: [], apiUrl: 'http://127.0.0.1:9' });
}

describe('the simulated backend', () => {
  it('labels every device and row as simulated', async () => {
    const sut = backend();
    const devices = await sut.discover();
    expect(devices.map((d) => [d.serial, d.backend, d.properties['profile']])).toEqual([
      ['a-sim-001', 'simulated', 'low_end'],
      ['a-sim-002', 'simulated', 'mid_range'],
      ['a-sim-003', 'simulated', 'flagship'],
    ]);
    const ctx = context(assignment());
    await sut.run('a-sim-001', ctx);
    expect(new Set(ctx.rows.map((r) => r.energyMethod))).toEqual(new Set(['simulated']));
  });

  it.each(['on_device', 'cloud'] as const)('makes every %s phase each iteration, warm-ups flagged, a cold load at iteration 0', async (scenario) => {
    const ctx = context(assignment({ scenario }));
    await backend().run('a-sim-002', ctx);
    const loads = scenario === 'on_device' ? 1 : 0;
    expect(ctx.rows).toHaveLength(loads + 5 * (PHASES_BY_SCENARIO[scenario].length - loads));
    expect(ctx.rows.filter((r) => r.warmup).every((r) => r.iteration === 1)).toBe(true);
    for (let i = 1; i <= 5; i++) {
      const iteration = ctx.rows.filter((r) => r.iteration === i);
      const total = iteration.find((r) => r.phase === 'total')?.durationMs ?? 0;
      const parts = iteration.filter((r) => ['preprocess', 'inference', 'postprocess', 'upload', 'server', 'download'].includes(r.phase));
      const sum = parts.reduce((s, r) => s + r.durationMs, 0);
      // The total adds a small modelled overhead to its parts, never less than them.
      expect(total).toBeGreaterThanOrEqual(sum);
      expect(total - sum).toBeLessThan(2);
    }
  });

  it('draws the same figures for the same attempt, and different ones for another', () => {
    const a = new TimingModel(PROFILES.mid_range, CNN_COSTS.mobilenet_v2, 'wifi', 'run.1').iteration('on_device');
    const b = new TimingModel(PROFILES.mid_range, CNN_COSTS.mobilenet_v2, 'wifi', 'run.1').iteration('on_device');
    const c = new TimingModel(PROFILES.mid_range, CNN_COSTS.mobilenet_v2, 'wifi', 'run.2').iteration('on_device');
    expect(a).toEqual(b);
    expect(a).not.toEqual(c);
  });

  it('orders the profiles and the CNNs as declared: flagship faster, InceptionV3 slower', () => {
    const median = (profile: keyof typeof PROFILES, model: 'mobilenet_v2' | 'inception_v3') => {
      const draws = Array.from({ length: 101 }, (_, i) => new TimingModel(PROFILES[profile], CNN_COSTS[model], 'wifi', `s${i}`).iteration('on_device')[1]?.durationMs ?? 0);
      return draws.sort((x, y) => x - y)[50] ?? 0;
    };
    expect(median('flagship', 'mobilenet_v2')).toBeLessThan(median('low_end', 'mobilenet_v2'));
    expect(median('mid_range', 'inception_v3')).toBeGreaterThan(median('mid_range', 'mobilenet_v2') * 5);
  });

  it('costs a model known only by size between the bundled CNNs it lies between', () => {
    const { mobilenet_v2: small, mobilenet_v2_mid: mid, inception_v3: large } = CNN_COSTS;
    expect(costBySize(small.sizeMb * 1e6, 224)).toEqual({ ...small, sizeMb: expect.closeTo(small.sizeMb, 9) as number });
    const between = costBySize(((mid.sizeMb + large.sizeMb) / 2) * 1e6, 299);
    expect(between.gflops).toBeCloseTo((mid.gflops + large.gflops) / 2, 9);
    expect(between.inputPx).toBe(299);
    // Through zero below the smallest, in proportion to the largest beyond it.
    expect(costBySize((small.sizeMb / 2) * 1e6, 32).gflops).toBeCloseTo(small.gflops / 2, 9);
    expect(costBySize(large.sizeMb * 2e6, 299).gflops).toBeCloseTo(large.gflops * 2, 9);
    expect(costBySize(0, 32).gflops).toBe(0);
  });

  it('ends a run of a registered model as an infrastructure error while the API cannot be reached', async () => {
    const ctx = context(assignment({ model: 'my-cnn' }));
    await expect(backend().run('a-sim-001', ctx)).rejects.toMatchObject({ kind: 'infrastructure', message: expect.stringContaining('no timing model for "my-cnn"') });
    expect(ctx.rows).toEqual([]);
  });

  it('injects the faults it is told, on the devices it is told', async () => {
    const sut = backend('fail:a-sim-001,lose:a-sim-002,hang:a-sim-003');
    const lost: string[] = [];
    sut.onDeviceLost = (serial) => lost.push(serial);
    await expect(sut.run('a-sim-001', context(assignment()))).rejects.toMatchObject({ kind: 'benchmark' });
    await expect(sut.run('a-sim-002', context(assignment()))).rejects.toMatchObject({ kind: 'device_lost' });
    expect(lost).toEqual(['a-sim-002']);
    expect((await sut.discover()).map((d) => d.serial)).toEqual(['a-sim-001', 'a-sim-003']);
    const controller = new AbortController();
    const hung = sut.run('a-sim-003', context(assignment(), controller));
    controller.abort(new RunError('timeout', 'too slow'));
    await expect(hung).rejects.toMatchObject({ kind: 'timeout' });
  });

  it('fails the checks of an unfit device before the run starts, so it records nothing', async () => {
    const ctx = context(assignment());
    await expect(backend('unfit:a-sim-001').run('a-sim-001', ctx)).rejects.toMatchObject({ kind: 'device_unfit', message: expect.stringContaining('battery') });
    expect(ctx.rows).toEqual([]);
  });

  it('refuses a fault list it cannot read, naming the entry', () => {
    expect(parseFaults('fail:x,explode:y')).toBe('"explode:y" is not kind:serial with kind one of fail, lose, hang, unfit');
    expect(parseFaults('fail')).toContain('"fail"');
  });

  it("slows the phase it is told, on the profile it is told, in runs due from the time it is told", async () => {
    const medianOf = async (slowdown: string, serial: string, deadlineAt: string, phase: string) => {
      const ctx = context(assignment({ iterations: 200, deadlineAt }));
      await backend('', slowdown).run(serial, ctx);
      const values = ctx.rows.filter((r) => r.phase === phase && !r.warmup).map((r) => r.durationMs).sort((a, b) => a - b);
      return values[100] ?? NaN;
    };
    const slow = 'low_end:inference:1.5:2029-06-01T00:00:00Z';
    const before = await medianOf('', 'a-sim-001', '2030-01-01T00:00:00.000Z', 'inference');
    expect((await medianOf(slow, 'a-sim-001', '2030-01-01T00:00:00.000Z', 'inference')) / before).toBeCloseTo(1.5, 5);
    expect(await medianOf(slow, 'a-sim-001', '2029-01-01T00:00:00.000Z', 'inference')).toBe(before);
    expect(await medianOf(slow, 'a-sim-001', '2030-01-01T00:00:00.000Z', 'preprocess')).toBe(await medianOf('', 'a-sim-001', '2030-01-01T00:00:00.000Z', 'preprocess'));
    expect(await medianOf(slow, 'a-sim-002', '2030-01-01T00:00:00.000Z', 'inference')).toBe(await medianOf('', 'a-sim-002', '2030-01-01T00:00:00.000Z', 'inference'));
  });

  it('refuses a slowdown it cannot read, naming the entry', () => {
    expect(parseSlowdowns('low_end:inference:1.1:2026-11-01T00:00:00Z')).toEqual([{ profile: 'low_end', phase: 'inference', factor: 1.1, from: new Date('2026-11-01T00:00:00Z') }]);
    expect(parseSlowdowns('tablet:inference:1.1:2026-11-01T00:00:00Z')).toContain('"tablet:inference');
    expect(parseSlowdowns('low_end:inference:-1:2026-11-01T00:00:00Z')).toContain('factor > 0');
    expect(parseSlowdowns('low_end:inference:1.1:yesterday')).toContain('ISO time');
  });
});
