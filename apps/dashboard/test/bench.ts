import { randomUUID } from 'node:crypto';
import { BUNDLED_MODELS } from '@farm/contracts';
import { DEFAULT_DATABASE_URL } from '@farm/db';
import { quantile } from '@farm/stats';
import { chromium } from 'playwright-core';
import chromiumArgs from '../../../device-agent/src/backends/browser/chromium-args.json';
import { FarmApi } from '@farm/client';
import { PreflightError, startStack } from '../../../scripts/lib/stack';

/**
 * `npm run bench:dashboard`: a finished job of 200 simulated devices × 3 CNNs × 2 scenarios
 * (1,200 runs), and the time headless Chromium takes to show its page complete: from navigation
 * to every run in the grid, the three summary charts and the study table, as the page's own
 * clock tells. One warm-up load, then ROUNDS measured ones. Last line:
 * dashboard_render_ms=<median>.
 */
const DEVICES = 200;
const ROUNDS = 5;
const CHROMIUM = process.env['CHROMIUM_PATH'] ?? '/usr/bin/chromium';

async function main(): Promise<void> {
  const database = new URL(process.env['DATABASE_URL'] ?? DEFAULT_DATABASE_URL);
  database.pathname = '/farm_bench_dashboard';
  const tag = `bench-dashboard-${randomUUID().slice(0, 8)}`;
  const stack = await startStack({
    quiet: true,
    env: { DATABASE_URL: database.toString(), QUEUE_PREFIX: tag, LOG_LEVEL: 'warn' },
    agents: [{ AGENT_NAME: tag, SIM_DEVICES: String(DEVICES), SIM_TIME_SCALE: '0', SIM_TAGS: tag, LOG_LEVEL: 'warn' }],
  });
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: chromiumArgs.filter((arg) => !arg.startsWith('--headless')) });
  try {
    const api = new FarmApi(stack.apiUrl, { token: stack.token });
    const submitted = await api.submit({ name: 'bench-dashboard', models: [...BUNDLED_MODELS], scenarios: ['on_device', 'cloud'], devices: { tags: [tag] }, iterations: 5 });
    const job = await api.waitForJob(submitted.id, { timeoutMs: 600_000 });
    const runs = job.progress.total;
    if (job.progress.passed !== runs) throw new Error(`only ${job.progress.passed} of ${runs} runs passed`);

    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    await page.context().addCookies([{ name: 'farm_session', value: stack.token, url: `${stack.apiUrl}/api`, httpOnly: true, sameSite: 'Strict' }]);
    const problems: string[] = [];
    page.on('console', (message) => message.type() === 'error' && problems.push(message.text()));
    page.on('pageerror', (error) => problems.push(error.message));
    const load = async (): Promise<number> => {
      await page.goto(`${stack.apiUrl}/jobs/${job.id}`);
      const shown = await page.waitForFunction(
        (expected) =>
          document.querySelectorAll('td.run.passed').length === expected &&
          document.querySelectorAll('[data-chart] svg').length === 3 &&
          document.querySelector('table[aria-label="On-device versus cloud"] tbody tr') !== null &&
          performance.now(),
        runs,
        { polling: 'raf', timeout: 120_000 },
      );
      return (await shown.jsonValue()) as number;
    };
    await load();
    const times: number[] = [];
    for (let round = 0; round < ROUNDS; round += 1) times.push(await load());
    if (problems.length > 0) throw new Error(`the page logged errors: ${problems.join('; ')}`);

    console.log(`\njob page of ${runs} runs (${DEVICES} simulated devices × ${BUNDLED_MODELS.length} CNNs × 2 scenarios), ${ROUNDS} loads after a warm-up`);
    console.log(`navigation to complete page, ms: ${times.map((t) => t.toFixed(0)).join(', ')}`);
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
