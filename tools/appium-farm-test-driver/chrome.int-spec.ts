import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { AppiumServer } from '../../device-agent/src/backends/browser/appium-server';
import { createFakePhone, unplugFakePhone } from '../fake-android/phone';

// Chrome sessions of the farmtest driver through a real Appium server: a real headless Chromium
// on this host behind its own chromedriver, on the fake phone's wall clock.

const ADB = path.join(__dirname, '..', 'fake-android', 'adb');
const BATTERY_FILES = ['/sys/class/power_supply/battery/current_now', '/sys/class/power_supply/battery/voltage_now'];
const quiet = { info: () => undefined, warn: () => undefined, debug: () => undefined };

interface W3cAnswer {
  value: { error?: string; message?: string; sessionId?: string; capabilities?: { chrome?: { userDataDir?: string } } } & Record<string, unknown>;
}

/** Pids of the processes with an argument that contains `text`. */
function processesMentioning(text: string): number[] {
  return readdirSync('/proc')
    .filter((entry) => /^\d+$/.test(entry) && Number(entry) !== process.pid)
    .filter((entry) => {
      try {
        return readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0').some((arg) => arg.includes(text));
      } catch {
        return false;
      }
    })
    .map(Number);
}

describe('Chrome sessions of the farmtest Appium driver', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'fake-android-'));
  const previousDir = process.env['FARM_FAKE_ANDROID_DIR'];
  let appium: AppiumServer;
  let url: string;
  let page: Server;
  let pageUrl: string;

  const call = async (method: 'GET' | 'POST' | 'DELETE', route: string, body?: object): Promise<{ status: number; value: W3cAnswer['value'] }> => {
    const response = await fetch(`${url}${route}`, {
      method,
      headers: { 'content-type': 'application/json' },
      ...(body && { body: JSON.stringify(body) }),
    });
    return { status: response.status, value: ((await response.json()) as W3cAnswer).value };
  };
  // As the agent asks UiAutomator2 for Chrome on a phone; the Chrome options are the phone's and are ignored here.
  const newChromeSession = (udid: string) =>
    call('POST', '/session', {
      capabilities: {
        alwaysMatch: {
          platformName: 'Android',
          'appium:automationName': 'FarmTest',
          'appium:udid': udid,
          browserName: 'Chrome',
          'goog:chromeOptions': { androidPackage: 'com.android.chrome', args: ['--disable-fre'] },
          'appium:chromedriverExecutable': '/opt/chromedriver-for-the-phone',
        },
      },
    });
  const phone = (serial: string) => createFakePhone(serial, { dir, memTotalKb: 11_720_000, battery: { currentUa: { a: 300_000, b: 100 }, voltageUv: 3_850_000 } });
  /** The phone's wall clock as the agent reads it with its battery sample, in ms since the epoch. */
  const phoneDateMs = async (serial: string): Promise<number> => {
    const { stdout } = await promisify(execFile)(ADB, ['-s', serial, 'shell', 'date', '+%s%N', ';', 'cat', ...BATTERY_FILES], {
      env: { ...process.env, FARM_FAKE_ANDROID_DIR: dir },
    });
    return Number(BigInt(stdout.split('\n')[0])) / 1e6;
  };

  beforeAll(async () => {
    process.env['FARM_FAKE_ANDROID_DIR'] = dir;
    page = createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/html' });
      res.end('<!doctype html><title>farm clock</title><p>clock</p>');
    });
    await new Promise<void>((resolve) => page.listen(0, '127.0.0.1', resolve));
    pageUrl = `http://127.0.0.1:${(page.address() as AddressInfo).port}/`;
    appium = new AppiumServer({ log: quiet });
    url = await appium.ensureRunning();
  });

  afterAll(async () => {
    await appium?.stop();
    await new Promise((resolve) => page?.close(resolve));
    if (previousDir === undefined) delete process.env['FARM_FAKE_ANDROID_DIR'];
    else process.env['FARM_FAKE_ANDROID_DIR'] = previousDir;
    rmSync(dir, { recursive: true, force: true });
  });

  it("loads a page in a real Chromium whose clock is the phone's wall clock, and fails once the phone is unplugged", async () => {
    phone('CHROME1');
    const session = await newChromeSession('CHROME1');
    expect(session.status).toBe(200);
    const id = String(session.value.sessionId);
    const userDataDir = String(session.value.capabilities?.chrome?.userDataDir);
    expect(existsSync(userDataDir)).toBe(true);
    // Chromium, its helpers and chromedriver (whose log is in the profile) all name the profile.
    expect(processesMentioning(userDataDir).length).toBeGreaterThanOrEqual(2);

    expect(await call('POST', `/session/${id}/url`, { url: pageUrl })).toEqual({ status: 200, value: null });
    expect(await call('GET', `/session/${id}/url`)).toEqual({ status: 200, value: pageUrl });
    expect(await call('GET', `/session/${id}/title`)).toEqual({ status: 200, value: 'farm clock' });
    expect(await call('POST', `/session/${id}/execute/async`, { script: 'arguments[arguments.length - 1](document.title + arguments[0])', args: ['!'] })).toEqual({
      status: 200,
      value: 'farm clock!',
    });

    // The page's clock against the phone's: the script runs right after adb has printed the date,
    // so the gap is the latency in between, and any offset of the clocks. The best of three.
    const gaps = [];
    for (let i = 0; i < 3; i++) {
      const dateMs = await phoneDateMs('CHROME1');
      const clock = await call('POST', `/session/${id}/execute/sync`, { script: 'return performance.timeOrigin + performance.now()', args: [] });
      expect(clock.status).toBe(200);
      gaps.push(Number(clock.value) - dateMs);
    }
    expect(Math.min(...gaps.map(Math.abs))).toBeLessThan(50);

    unplugFakePhone('CHROME1', dir);
    const gone = await call('GET', `/session/${id}/title`);
    expect(gone.status).toBe(500);
    expect(gone.value).toMatchObject({
      error: 'unknown error',
      message: expect.stringContaining("exited with code 1'; Command output: adb: device 'CHROME1' not found"),
    });

    expect(await call('DELETE', `/session/${id}`)).toEqual({ status: 200, value: null });
    expect(processesMentioning(userDataDir)).toEqual([]);
    expect(existsSync(userDataDir)).toBe(false);
  });

  it('refuses Chrome on a phone adb cannot use, as it refuses the app', async () => {
    createFakePhone('CHROME2', { dir, adbState: 'unauthorized', memTotalKb: 1, battery: { currentUa: { a: 0, b: 0 }, voltageUv: 1 } });
    phone('CHROME2-PLUGGED');
    const refused = await newChromeSession('CHROME2');
    expect(refused.status).toBe(500);
    expect(refused.value.message).toContain('Device CHROME2 was not in the list of connected devices');
  });

  it('leaves no Chromium or chromedriver behind when the Appium server stops with a session open', async () => {
    phone('CHROME3');
    const session = await newChromeSession('CHROME3');
    expect(session.status).toBe(200);
    const userDataDir = String(session.value.capabilities?.chrome?.userDataDir);
    expect(processesMentioning(userDataDir).length).toBeGreaterThanOrEqual(2);
    await appium.stop();
    expect(processesMentioning(userDataDir)).toEqual([]);
    expect(existsSync(userDataDir)).toBe(false);
  });
});
