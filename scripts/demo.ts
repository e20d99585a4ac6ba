import { BUNDLED_MODELS, type SummaryGroup } from '@farm/contracts';
import { FarmApi } from '@farm/client';
import { PreflightError, startStack } from './lib/stack';
import { fixed, formatTable } from './lib/table';

/**
 * The main job, end to end and for real: the API, the inference server and an agent with one
 * browser device (headless Chromium driven through Appium, running the bench-web page with the
 * real CNNs). A job of the three CNNs × on-device and cloud runs to the end; the per-phase
 * medians and the on-device versus cloud ratio of each CNN are printed. DEMO_SIMULATED=<n> adds
 * n simulated phones to the fleet and to the job (labelled simulated in every row).
 * Exits non-zero if any run did not pass.
 */
async function main(): Promise<void> {
  const simulated = Number(process.env['DEMO_SIMULATED'] ?? 0);
  const backends = simulated > 0 ? 'browser,simulated' : 'browser';
  const stack = await startStack({
    port: Number(process.env['PORT'] ?? 0),
    quiet: !process.env['DEMO_VERBOSE'],
    inferenceServer: true,
    agents: [{ AGENT_NAME: 'demo-agent', BACKENDS: backends, SIM_DEVICES: String(simulated), SIM_TIME_SCALE: '0.02', LOG_LEVEL: 'warn' }],
  });
  try {
    const api = new FarmApi(stack.apiUrl, { token: stack.token });
    const job = await api.submit({
      name: 'demo',
      models: [...BUNDLED_MODELS],
      scenarios: ['on_device', 'cloud'],
      devices: simulated > 0 ? {} : { backend: 'browser' },
      iterations: Number(process.env['DEMO_ITERATIONS'] ?? 10),
      warmup: 2,
      network: 'lan',
    });
    console.log(`job ${job.id}: ${job.progress.total} runs (API ${stack.apiUrl}, inference server ${stack.inferenceUrl ?? '-'})`);
    let last = '';
    const done = await api.waitForJob(job.id, {
      pollMs: 500,
      onProgress: ({ progress: p }) => {
        const line = `  queued ${p.queued}  running ${p.running}  passed ${p.passed}  failed ${p.failed}  errored ${p.errored}`;
        if (line !== last) console.log((last = line));
      },
    });
    const { groups } = await api.summary(job.id);
    console.log('\nPer-phase medians in ms (warm-up iterations left out; energy: none on the browser device)\n');
    console.log(phaseTable(groups));
    console.log('\nOn-device versus cloud, per device and CNN (medians of the per-iteration total)\n');
    console.log(ratioTable(groups));
    for (const problem of done.runs?.filter((r) => r.result !== 'passed') ?? []) {
      console.log(`run ${problem.id} ${problem.model}/${problem.scenario}: ${problem.result} (${problem.errorKind}: ${problem.errorMessage})`);
    }
    console.log(`\njob ${done.status}: ${done.progress.passed}/${done.progress.total} runs passed`);
    process.exitCode = done.progress.passed === done.progress.total ? 0 : 1;
  } finally {
    await stack.stop();
  }
}

function phaseTable(groups: readonly SummaryGroup[]): string {
  return formatTable(
    ['device', 'backend', 'model', 'scenario', 'phase', 'n', 'median', 'p90', 'min', 'max'],
    groups.map((g) => [g.deviceModel, g.backend, g.model, g.scenario, g.phase, g.n, fixed(g.median, 2), fixed(g.p90, 2), fixed(g.min, 2), fixed(g.max, 2)]),
  );
}

/** The study's question per device and CNN: how much slower is on-device, and where does the time go. */
function ratioTable(groups: readonly SummaryGroup[]): string {
  const keys = [...new Set(groups.map((g) => `${g.deviceModel}\u0000${g.backend}\u0000${g.model}`))];
  const rows = keys.map((key) => {
    const [device = '', backend = '', model = ''] = key.split('\u0000');
    const of = (scenario: string, phase: string) => groups.find((g) => g.deviceModel === device && g.model === model && g.scenario === scenario && g.phase === phase);
    const onDevice = of('on_device', 'total')?.median ?? null;
    const cloud = of('cloud', 'total')?.median ?? null;
    const coldLoad = of('on_device', 'model_load')?.median ?? null;
    return [
      device,
      backend,
      model,
      fixed(onDevice, 1),
      fixed(cloud, 1),
      onDevice !== null && cloud ? `${(onDevice / cloud).toFixed(2)}x` : '-',
      fixed(coldLoad, 1),
      coldLoad !== null && onDevice !== null && cloud ? `${((coldLoad + onDevice) / cloud).toFixed(2)}x` : '-',
      bottleneck(groups, device, model, 'on_device'),
      bottleneck(groups, device, model, 'cloud'),
    ];
  });
  return formatTable(
    ['device', 'backend', 'model', 'on-device', 'cloud', 'ratio', 'cold load', 'ratio with load', 'on-device bottleneck', 'cloud bottleneck'],
    rows,
  );
}

const LEAF_PHASES: Record<string, readonly string[]> = {
  on_device: ['preprocess', 'inference', 'postprocess'],
  cloud: ['preprocess', 'upload', 'server', 'download'],
};

function bottleneck(groups: readonly SummaryGroup[], device: string, model: string, scenario: string): string {
  const phases = groups.filter((g) => g.deviceModel === device && g.model === model && g.scenario === scenario && LEAF_PHASES[scenario]?.includes(g.phase));
  const top = phases.sort((a, b) => b.median - a.median)[0];
  return top ? top.phase : '-';
}

main().catch((error: unknown) => {
  console.error(error instanceof PreflightError ? error.message : error);
  process.exit(error instanceof PreflightError ? 2 : 1);
});
