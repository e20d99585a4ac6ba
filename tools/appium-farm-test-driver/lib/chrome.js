// @ts-check
'use strict';
// Chrome for a FarmTest session: the fake phone is this host, so its Chrome is a headless
// Chromium here, behind a chromedriver of its own, as UiAutomator2 puts a chromedriver in front
// of Chrome on a phone. See README.md.
const { spawn } = require('node:child_process');
const fs = require('node:fs');
const net = require('node:net');
const os = require('node:os');
const path = require('node:path');
const { WebDriverProxy } = require('appium/driver');

/** The flags Chromium needs on the farm's hosts: the browser backend's own list. @type {string[]} */
const CHROMIUM_ARGS = require('../../../device-agent/src/backends/browser/chromium-args.json');
const START_TIMEOUT_MS = 20_000;
const QUIT_TIMEOUT_MS = 10_000;

/** Chrome sessions still open, ended by force if the Appium server exits without deleting them. @type {Set<ChromeSession>} */
const open = new Set();
process.once('exit', () => {
  for (const session of open) session.kill();
});

/** @returns {Promise<number>} */
function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = /** @type {net.AddressInfo} */ (server.address());
      server.close(() => resolve(port));
    });
  });
}

/**
 * SIGKILLs every process with an argument that contains `text` (Linux /proc; elsewhere none).
 * A session's folder is in the arguments of its chromedriver and of Chromium and its helpers.
 * @param {string} text
 */
function killProcessesMentioning(text) {
  const entries = fs.existsSync('/proc') ? fs.readdirSync('/proc') : [];
  for (const entry of entries) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    let cmdline = '';
    try {
      cmdline = fs.readFileSync(`/proc/${entry}/cmdline`, 'utf8');
    } catch {
      continue; // gone
    }
    if (!cmdline.split('\0').some((arg) => arg.includes(text))) continue;
    try {
      process.kill(Number(entry), 'SIGKILL');
    } catch {
      // gone
    }
  }
}

/** @param {number} ms */
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

class ChromeSession {
  /**
   * @param {import('@appium/types').AppiumLogger} log
   * @param {{ chromedriverPath?: string, chromiumPath?: string }} [paths] default: env CHROMEDRIVER_PATH / CHROMIUM_PATH, then Debian's
   */
  constructor(log, paths = {}) {
    this.log = log;
    this.chromedriverPath = paths.chromedriverPath ?? process.env['CHROMEDRIVER_PATH'] ?? '/usr/bin/chromedriver';
    this.chromiumPath = paths.chromiumPath ?? process.env['CHROMIUM_PATH'] ?? '/usr/bin/chromium';
    /** The profile of this session's Chromium; chromedriver logs into it too, so both carry it in their arguments. */
    this.userDataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'farmtest-chrome-'));
    /** @type {import('node:child_process').ChildProcess | null} */
    this.chromedriver = null;
    /** @type {InstanceType<typeof WebDriverProxy> | null} */
    this.proxy = null;
    open.add(this);
  }

  /** Starts chromedriver on a port of its own and a Chromium through it; returns the capabilities chromedriver gives its session. */
  async start() {
    try {
      const port = await freePort();
      const logPath = path.join(this.userDataDir, 'chromedriver.log');
      const chromedriver = spawn(this.chromedriverPath, [`--port=${port}`, `--log-path=${logPath}`], { stdio: 'ignore' });
      this.chromedriver = chromedriver;
      const exited = new Promise((resolve) => {
        chromedriver.once('error', resolve);
        chromedriver.once('exit', resolve);
      });
      await this.waitForStatus(port, exited);
      this.proxy = new WebDriverProxy({ server: '127.0.0.1', port, log: this.log });
      const capabilities = { browserName: 'chrome', 'goog:chromeOptions': { binary: this.chromiumPath, args: [...CHROMIUM_ARGS, `--user-data-dir=${this.userDataDir}`] } };
      const created = /** @type {{ capabilities: Record<string, unknown> }} */ (
        await this.proxy.command('/session', 'POST', { capabilities: { alwaysMatch: capabilities, firstMatch: [{}] } })
      );
      return created.capabilities;
    } catch (error) {
      await this.quit();
      throw error;
    }
  }

  /** @param {number} port @param {Promise<unknown>} exited */
  async waitForStatus(port, exited) {
    let gone = false;
    void exited.then(() => (gone = true));
    const until = Date.now() + START_TIMEOUT_MS;
    while (!gone && Date.now() < until) {
      try {
        const answer = await fetch(`http://127.0.0.1:${port}/status`, { signal: AbortSignal.timeout(2_000) });
        if (answer.ok) return;
      } catch {
        // not listening yet
      }
      await sleep(50);
    }
    throw new Error(`chromedriver ${this.chromedriverPath} ${gone ? 'exited' : 'did not answer'} on port ${port} during start`);
  }

  /** Quits Chromium through chromedriver, stops chromedriver, kills what is left and removes the profile. */
  async quit() {
    if (this.proxy?.sessionId) {
      await Promise.race([this.proxy.command('', 'DELETE'), sleep(QUIT_TIMEOUT_MS)]).catch((/** @type {unknown} */ error) =>
        this.log.warn(`chromedriver could not quit Chromium: ${error instanceof Error ? error.message : String(error)}`),
      );
    }
    const chromedriver = this.chromedriver;
    if (chromedriver && chromedriver.exitCode === null && chromedriver.signalCode === null) {
      const exited = new Promise((resolve) => chromedriver.once('exit', resolve));
      chromedriver.kill('SIGTERM');
      await Promise.race([exited, sleep(QUIT_TIMEOUT_MS)]);
    }
    this.kill();
  }

  /** Ends every process of the session at once and removes its profile; synchronous, for the exit of the Appium server too. */
  kill() {
    this.proxy = null;
    this.chromedriver = null;
    killProcessesMentioning(this.userDataDir);
    // Chromium's last writes may still land while the killed processes go.
    fs.rmSync(this.userDataDir, { recursive: true, force: true, maxRetries: 5, retryDelay: 50 });
    open.delete(this);
  }
}

exports.ChromeSession = ChromeSession;
