import { randomUUID } from 'node:crypto';
import { BUNDLED_MODELS } from '@farm/contracts';
import { DEFAULT_DATABASE_URL } from '@farm/db';
import { quantile } from '@farm/stats';
import { FarmApi } from '@farm/client';
import { recreateDatabase } from '../../../scripts/db/connection';
import { PreflightError, startStack } from '../../../scripts/lib/stack';
import { launchBrowser, openTab } from './browser';

/**
 * `npm run bench:dashboard`: a finished job of 200 simulated devices × 3 CNNs × 2 scenarios
 * (1,200 runs) in a database made afresh, and the time headless Chromium takes to show its page
 * complete: from navigation to every run in the grid, the three summary charts and the study
 * table, as the page's own clock tells. One warm-up load, then ROUNDS measured ones. Last line:
 * dashboard_render_ms=<median>.
 */
const DEVICES = 200;
const ROUNDS = 5;

async function main(): Promise<void> {
  const database = new URL(process.env['DATABASE_URL'] ?? DEFAULT_DATABASE_URL);
  database.pathname = '/farm_bench_dashboard';
  // Afresh each time: the fleet is the bench's 200 devices, not those of every earlier run too.
  await recreateDatabase(database.toString());
  const tag = `bench-dashboard-${randomUUID().slice(0, 8)}`;
  const stack = await startStack({
    quiet: true,
    ownQueues: true,
    env: { DATABASE_URL: database.toString(), QUEUE_PREFIX: tag, LOG_LEVEL: 'warn' },
    agents: [{ AGENT_NAME: tag, SIM_DEVICES: String(DEVICES), SIM_TIME_SCALE: '0', SIM_TAGS: tag, LOG_LEVEL: 'warn' }],
  });
  const browser = await launchBrowser();
  try {
    const api = new FarmApi(stack.apiUrl, { token: stack.token });
    const submitted = await api.submit({ name: 'bench-dashboard', models: [...BUNDLED_MODELS], scenarios: ['on_device', 'cloud'], devices: { tags: [tag] }, iterations: 5 });
    const job = await api.waitForJob(submitted.id, { timeoutMs: 600_000 });
    const runs = job.progress.total;
    if (job.progress.passed !== runs) throw new Error(`only ${job.progress.passed} of ${runs} runs passed`);

    const { page, problems } = await openTab(browser, stack);
    /** One load: the time the page was complete, and when each part of it was first complete. */
    const load = async (): Promise<{ complete: number; parts: Record<string, number> }> => {
      await page.goto(`${stack.apiUrl}/jobs/${job.id}`);
      const shown = await page.waitForFunction(
        (expected) => {
          const marks = ((window as unknown as { benchMarks?: Record<string, number> }).benchMarks ??= {});
          const parts: Record<string, boolean> = {
            grid: document.querySelectorAll('td.run.passed').length === expected,
            charts: document.querySelectorAll('[data-chart] svg').length === 3,
            study: document.querySelector('table[aria-label="On-device versus cloud"] tbody tr') !== null,
          };
          for (const [part, done] of Object.entries(parts)) if (done) marks[part] ??= performance.now();
          return Object.values(parts).every(Boolean) && { complete: performance.now(), parts: marks };
        },
        runs,
        { polling: 'raf', timeout: 120_000 },
      );
      return (await shown.jsonValue()) as { complete: number; parts: Record<string, number> };
    };
    /** Where the time of a load went: each request's span and size, and when each part was complete. */
    const breakdown = async (parts: Record<string, number>): Promise<string[]> => {
      const requests = await page.evaluate(() =>
        (performance.getEntriesByType('resource') as PerformanceResourceTiming[]).map((e) => ({ name: new URL(e.name).pathname, start: e.startTime, end: e.responseEnd, bytes: e.encodedBodySize })),
      );
      return [
        ...requests.map((r) => `  ${r.name.padEnd(56)} ${r.start.toFixed(0).padStart(5)} → ${r.end.toFixed(0).padStart(5)} ms  ${(r.bytes / 1024).toFixed(0).padStart(5)} KiB`),
        ...Object.entries(parts).map(([part, at]) => `  ${`${part} complete`.padEnd(56)} ${at.toFixed(0).padStart(14)} ms`),
      ];
    };
    await load();
    const times: number[] = [];
    let last: Record<string, number> = {};
    for (let round = 0; round < ROUNDS; round += 1) {
      const { complete, parts } = await load();
      times.push(complete);
      last = parts;
    }
    const spans = await breakdown(last);
    if (problems.length > 0) throw new Error(`the page logged errors: ${problems.join('; ')}`);

    console.log(`\njob page of ${runs} runs (${DEVICES} simulated devices × ${BUNDLED_MODELS.length} CNNs × 2 scenarios), ${ROUNDS} loads after a warm-up`);
    console.log(`navigation to complete page, ms: ${times.map((t) => t.toFixed(0)).join(', ')}`);
    console.log(`the last load, from navigation (ms):\n${spans.join('\n')}`);
    console.log(`\ndashboard_render_ms=${quantile(times, 0.5).toFixed(0)}`);
  } finally {
    await browser.close();
    await stack.stop();
  }
}

main().catch((error: unknown) => {
  console.error(error instanceof PreflightError ? error.message : error);
  process.exit(error instanceof PreflightError ? 2 : 1);
});
