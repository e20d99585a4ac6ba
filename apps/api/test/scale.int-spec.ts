import { BUNDLED_MODELS } from '@farm/contracts';
import { runScaleJob } from '../../../scripts/lib/scale';
import { startTestFarm, type TestFarm } from './support';

/**
 * `npm run bench:scale` in small: 3 agents × 30 simulated devices and one job of 540 runs (6 a
 * device). Every run passes on its first attempt with every row stored, and the makespan stays
 * near the ideal (the runs' durations summed, divided by the devices): a dispatch that left
 * devices idle, or served them one after another, would be far off. The bound is lenient, as
 * the host is shared; the bench reports the figure at full scale.
 */
const AGENTS = 3;
const DEVICES_PER_AGENT = 30;
const TIME_SCALE = 3;

describe('scale', () => {
  let farm: TestFarm;
  beforeAll(async () => {
    farm = await startTestFarm(
      Array.from({ length: AGENTS }, (_, i) => ({
        name: `scale-${i + 1}`,
        // About 3.5 s a run (mid-range phones at three times the modelled time, 3 iterations): the
        // start of a job on 90 devices, a few seconds on a busy host, stays small beside it.
        env: { SIM_DEVICES: String(DEVICES_PER_AGENT), SIM_PROFILES: 'mid_range', SIM_TIME_SCALE: String(TIME_SCALE) },
      })),
      { HEARTBEAT_INTERVAL_MS: '1000', AGENT_TIMEOUT_MS: '10000' },
    );
  }, 180_000);
  afterAll(() => farm.stop());

  it('runs a job on 90 devices with no run lost, near the ideal makespan', async () => {
    const figures = await runScaleJob(
      farm.api,
      farm.db,
      { name: 'scale', models: [...BUNDLED_MODELS], scenarios: ['on_device', 'cloud'], devices: { tags: [farm.tag] }, iterations: 2, warmup: 1 },
      { timeoutMs: 300_000, pollMs: 100, timeScale: TIME_SCALE },
    );
    const ratio = figures.makespanS / figures.idealS;
    console.log(`scale: ${figures.runs} runs on ${figures.devices} devices, makespan ${figures.makespanS.toFixed(1)} s, ideal ${figures.idealS.toFixed(1)} s, ratio ${ratio.toFixed(3)}`);
    expect(figures).toMatchObject({ runs: AGENTS * DEVICES_PER_AGENT * 6, devices: AGENTS * DEVICES_PER_AGENT, lost: 0, retried: 0 });
    expect(figures.rows).toBeGreaterThan(0);
    expect(ratio).toBeLessThan(1.6);
  });
});
