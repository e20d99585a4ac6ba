import { BUNDLED_MODELS } from '@farm/contracts';
import { FarmApi, formatProgress, outcomeLine, phaseTable, problemLines, studyTable } from '@farm/client';
import { PreflightError, startStack } from './lib/stack';

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
      onProgress: ({ progress }) => {
        const line = `  ${formatProgress(progress)}`;
        if (line !== last) console.log((last = line));
      },
    });
    const [{ groups }, { pairs }] = await Promise.all([api.summary(job.id), api.study(job.id)]);
    console.log('\nPer-phase figures in ms (warm-up iterations left out; energy: none on the browser device)\n');
    console.log(phaseTable(groups));
    console.log('\nOn-device versus cloud, per device and CNN (medians of the per-iteration total)\n');
    console.log(studyTable(pairs));
    for (const line of problemLines(done.runs ?? [])) console.log(line);
    console.log(`\n${outcomeLine(done)}`);
    process.exitCode = done.progress.passed === done.progress.total ? 0 : 1;
  } finally {
    await stack.stop();
  }
}

main().catch((error: unknown) => {
  console.error(error instanceof PreflightError ? error.message : error);
  process.exit(error instanceof PreflightError ? 2 : 1);
});
