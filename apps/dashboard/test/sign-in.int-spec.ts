import { mkdirSync } from 'node:fs';
import * as path from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import chromiumArgs from '../../../device-agent/src/backends/browser/chromium-args.json';
import { startTestFarm, type TestFarm } from '../../api/test/support';

const SCREENSHOTS = path.resolve(__dirname, '..', '..', '..', 'test-artifacts', 'dashboard');
const CHROMIUM = process.env['CHROMIUM_PATH'] ?? '/usr/bin/chromium';

/** The dashboard's sign-in page in headless Chromium against the real API. */
describe('dashboard sign-in', () => {
  let farm: TestFarm;
  let browser: Browser;

  beforeAll(async () => {
    mkdirSync(SCREENSHOTS, { recursive: true });
    farm = await startTestFarm([]);
    browser = await chromium.launch({ executablePath: CHROMIUM, args: chromiumArgs.filter((arg) => !arg.startsWith('--headless')) });
  });
  afterAll(async () => {
    await browser?.close();
    await farm?.stop();
  });

  it('asks for a token, refuses a bad one, signs in with a good one, and signs out', async () => {
    const page = await browser.newPage({ viewport: { width: 1280, height: 700 } });
    const problems: string[] = [];
    page.on('pageerror', (error) => problems.push(error.message));
    await page.goto(`${farm.stack.apiUrl}/devices`);
    await page.getByRole('heading', { name: 'Sign in' }).waitFor();
    await page.screenshot({ path: path.join(SCREENSHOTS, 'sign-in.png') });

    const token = page.getByLabel('API token');
    await token.fill('farm_not-a-token');
    await page.getByRole('button', { name: 'Sign in' }).click();
    expect(await page.getByRole('alert').textContent()).toBe('the token is not valid');

    const viewer = await farm.stack.createToken({ role: 'viewer', name: 'dashboard reader' });
    await token.fill(viewer);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: 'Devices' }).waitFor();
    expect(await page.getByLabel('Session').textContent()).toContain('dashboard reader (viewer)');
    const cookies = await page.context().cookies();
    expect(cookies.find((c) => c.name === 'farm_session')).toMatchObject({ httpOnly: true, sameSite: 'Strict', path: '/' });
    expect(await page.evaluate(() => document.cookie)).toBe('');

    await page.reload();
    await page.getByRole('heading', { name: 'Devices' }).waitFor();
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByRole('heading', { name: 'Sign in' }).waitFor();
    expect((await page.context().cookies()).find((c) => c.name === 'farm_session')).toBeUndefined();
    expect(problems).toEqual([]);
    await page.close();
  });
});
