import { mkdirSync } from 'node:fs';
import * as path from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { SESSION_COOKIE } from '../../api/src/auth/session-cookie';
import { startTestFarm, type TestFarm } from '../../api/test/support';
import chromiumArgs from '../../../device-agent/src/backends/browser/chromium-args.json';

/** Screenshots of each page, kept as test artefacts (the folder is ignored by git). */
export const SCREENSHOTS = path.resolve(__dirname, '..', '..', '..', 'test-artifacts', 'dashboard');
const CHROMIUM = process.env['CHROMIUM_PATH'] ?? '/usr/bin/chromium';

export interface Tab {
  page: Page;
  /** Console errors and uncaught exceptions of the page. */
  problems: string[];
}

/**
 * The one way the dashboard's browser tests and its bench open it: Debian's Chromium through
 * playwright-core, with the farm's flags (Playwright adds its own headless one).
 */
export async function launchBrowser(): Promise<Browser> {
  mkdirSync(SCREENSHOTS, { recursive: true });
  return chromium.launch({ executablePath: CHROMIUM, args: chromiumArgs.filter((arg) => !arg.startsWith('--headless')) });
}

/**
 * A new page for the dashboard, signed in with the stack's admin token as the sign-in page
 * leaves it (sign-in.int-spec.ts drives that page itself), its console errors collected.
 */
export async function openTab(browser: Browser, stack: { apiUrl: string; token: string }): Promise<Tab> {
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  await page.context().addCookies([{ name: SESSION_COOKIE, value: stack.token, url: stack.apiUrl, httpOnly: true, sameSite: 'Strict' }]);
  const problems: string[] = [];
  page.on('console', (message) => message.type() === 'error' && problems.push(message.text()));
  page.on('pageerror', (error) => problems.push(error.message));
  return { page, problems };
}

/**
 * The set-up of a suite of browser tests, registered in the describe() that calls it: a farm
 * with the given agents and a browser for the suite, and a fresh signed-in tab for each test.
 */
export function dashboardSuite(agents: { name: string; env?: NodeJS.ProcessEnv }[]): { readonly farm: TestFarm; readonly tab: Tab } {
  let farm: TestFarm | undefined;
  let browser: Browser | undefined;
  let tab: Tab | undefined;
  beforeAll(async () => {
    farm = await startTestFarm(agents);
    browser = await launchBrowser();
  });
  afterAll(async () => {
    await browser?.close();
    await farm?.stop();
  });
  beforeEach(async () => {
    if (!browser || !farm) throw new Error('the suite did not start');
    tab = await openTab(browser, farm.stack);
  });
  afterEach(async () => {
    await tab?.page.close();
  });
  const started = <T>(value: T | undefined): T => {
    if (value === undefined) throw new Error('used outside a test of the suite');
    return value;
  };
  return {
    get farm() {
      return started(farm);
    },
    get tab() {
      return started(tab);
    },
  };
}

export const screenshot = (tab: Tab, name: string): Promise<Buffer> => tab.page.screenshot({ path: path.join(SCREENSHOTS, `${name}.png`), fullPage: true });

/** Every control is named: inputs and selects by a label, buttons by their text or a label. */
export const unnamedControls = (page: Page): Promise<string[]> =>
  page.$$eval('input, select, textarea, button', (elements) =>
    elements
      .filter((e) => {
        const labelled = Boolean(e.getAttribute('aria-label')) || ((e as HTMLInputElement).labels?.length ?? 0) > 0;
        return e.tagName === 'BUTTON' ? !labelled && !e.textContent?.trim() : !labelled;
      })
      .map((e) => e.outerHTML),
  );
