import { BUNDLED_MODELS, type SummaryGroup } from '@farm/contracts';
import { FarmApi } from './lib/api';
import { PreflightError, startStack } from './lib/stack';
import { fixed, formatTable } from './lib/table';

/**
 * The main job, end to end: brings up the API and an agent with a simulated fleet (two phones
 * of each profile), runs the three CNNs on-device and in the cloud on every phone, prints the
 * per-phase summary, and stops everything. Exits non-zero if any run did not pass.
 */
async function main(): Promise<void> {
  const stack = await startStack({
    port: Number(process.env['PORT'] ?? 0),
    quiet: true,
    agents: [{ AGENT_NAME: 'demo-agent', BACKENDS: 'simulated', SIM_DEVICES: '6', SIM_TIME_SCALE: process.env['SIM_TIME_SCALE'] ?? '0.02' }],
  });
  try {
    const api = new FarmApi(stack.apiUrl);
    const job = await api.submit({
      name: 'demo',
      models: [...BUNDLED_MODELS],
      scenarios: ['on_device', 'cloud'],
      devices: { backend: 'simulated' },
      iterations: 10,
      warmup: 2,
      network: 'wifi',
    });
    console.log(`job ${job.id}: ${job.progress.total} runs on the simulated fleet (API at ${stack.apiUrl})`);
    let last = '';
    const done = await api.waitForJob(job.id, {
      onProgress: ({ progress: p }) => {
        const line = `  queued ${p.queued}  running ${p.running}  passed ${p.passed}  failed ${p.failed}  errored ${p.errored}`;
        if (line !== last) console.log((last = line));
      },
    });
    const summary = await api.summary(job.id);
    console.log(`\nPer-phase summary (ms; energy in mJ per measurement). Backend and energy method: simulated.\n`);
    console.log(summaryTable(summary.groups));
    const ok = done.progress.passed === done.progress.total;
    console.log(`\njob ${done.status}: ${done.progress.passed}/${done.progress.total} runs passed`);
    process.exitCode = ok ? 0 : 1;
  } finally {
    await stack.stop();
  }
}

function summaryTable(groups: readonly SummaryGroup[]): string {
  return formatTable(
    ['device', 'backend', 'model', 'scenario', 'phase', 'n', 'median', 'p90', 'mean', 'energy', 'method'],
    groups.map((g) => [g.deviceModel, g.backend, g.model, g.scenario, g.phase, g.n, fixed(g.median), fixed(g.p90), fixed(g.mean), fixed(g.energyMj), g.energyMethod]),
  );
}

main().catch((error: unknown) => {
  console.error(error instanceof PreflightError ? error.message : error);
  process.exit(error instanceof PreflightError ? 2 : 1);
});
