// Records the per-phase durations of one real benchmark run per scenario, for the fake phone's
// benchmark app to replay: mobilenet_v2 in bench-web, in headless Chromium driven by the
// browser backend, with the inference server in this process for the cloud scenario.
//
//   node -r @swc-node/register tools/fake-android/record-run.ts [--iterations 20] [--warmup 3]
//
// Writes tools/fake-android/recorded-run.mobilenet_v2.json.
import { randomUUID } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { SCENARIOS, type Measurement, type RunAssignment, type Scenario } from '@farm/contracts';
import { startInferenceServer } from '../../apps/inference-server/src';
import { freePort } from '../../device-agent/src/backends/browser/appium-server';
import { BrowserBackend } from '../../device-agent/src/backends/browser/browser.backend';
import type { CheckedBenchResult } from '../../device-agent/src/backends/browser/results';
import type { RecordedRun } from './phone';

const MODEL = 'mobilenet_v2';
/** Nothing listens on the discard port: bundled models only, so no one asks the API. */
const NO_API = 'http://127.0.0.1:9';
const quiet = { info: () => undefined, warn: () => undefined, error: () => undefined };

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { iterations: { type: 'string', default: '20' }, warmup: { type: 'string', default: '3' } } });
  const iterations = Number(values.iterations);
  const warmup = Number(values.warmup);
  const port = await freePort('127.0.0.1');
  const inference = await startInferenceServer(
    { port, host: '127.0.0.1', models: [MODEL], concurrency: 1, queue: 8, maxBytes: 5 * 1024 * 1024, apiUrl: NO_API, modelFetchTimeoutMs: 5000 },
    { logger: quiet },
  );
  const results = new Map<string, CheckedBenchResult>();
  const backend = new BrowserBackend({
    agentName: 'record',
    slots: 1,
    inferenceUrl: `http://127.0.0.1:${port}`,
    apiUrl: NO_API,
    chromiumPath: '/usr/bin/chromium',
    chromedriverPath: '/usr/bin/chromedriver',
    pollMs: 250,
    onBenchResult: (serial, result) => results.set(serial, result),
  });
  try {
    const [device] = await backend.discover();
    const scenarios = {} as Record<Scenario, Measurement[]>;
    const top1 = {} as RecordedRun['top1'];
    for (const scenario of SCENARIOS) {
      const rows: Measurement[] = [];
      const controller = new AbortController();
      const assignment: RunAssignment = {
        runId: randomUUID(),
        jobId: randomUUID(),
        attempt: 1,
        deviceId: randomUUID(),
        model: MODEL,
        scenario,
        iterations,
        warmup,
        network: 'lan',
        deadlineAt: new Date(Date.now() + 3_600_000).toISOString(),
      };
      await backend.run(device.serial, {
        assignment,
        signal: controller.signal,
        checkpoint: () => undefined,
        status: () => undefined,
        record: (m) => void rows.push(m),
        describe: () => undefined,
      });
      scenarios[scenario] = rows;
      const last = results.get(device.serial)?.top1.at(-1);
      if (!last) throw new Error(`the ${scenario} run reported no top-1 class`);
      top1[scenario] = { className: last.className, probability: last.probability };
    }
    const result = results.get(device.serial);
    const recorded: RecordedRun = {
      source:
        `bench-web ${result?.version ?? '?'} in ${device.model}, driven by the browser backend through Appium, tfjs ${result?.tfjsVersion ?? '?'} ` +
        `(wasm for on_device), the inference server in the same process on loopback (one worker), on a ${cpus().length}-core ${cpus()[0]?.model ?? ''} host; ` +
        `recorded by tools/fake-android/record-run.ts on ${new Date().toISOString().slice(0, 10)}`,
      model: MODEL,
      iterations,
      warmup,
      tfjsVersion: result?.tfjsVersion ?? '',
      top1,
      scenarios: Object.fromEntries(
        SCENARIOS.map((scenario) => [
          scenario,
          scenarios[scenario].map(({ iteration, warmup: w, phase, durationMs }) => ({ iteration, warmup: w, phase, durationMs })),
        ]),
      ) as RecordedRun['scenarios'],
    };
    // One row per line: the file stays readable and its diffs small.
    const text = JSON.stringify(recorded, null, 2).replace(/\{\n\s+("iteration"[^}]*?)\n\s+\}/g, (_row, body: string) => `{ ${body.replace(/\n\s+/g, ' ')} }`);
    writeFileSync(path.join(__dirname, `recorded-run.${MODEL}.json`), `${text}\n`);
  } finally {
    await backend.close();
    await inference.stop();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
