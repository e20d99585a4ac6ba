// @ts-check
'use strict';
// An Appium 3 driver that answers, for the fake phones of tools/fake-android, the few commands
// the farm's android backend sends to UiAutomator2, with UiAutomator2's errors; a session with
// `browserName: 'Chrome'` drives a real headless Chromium on this host instead. See README.md.
const { BaseDriver, getResponseForW3CError } = require('appium/driver');
const fs = require('node:fs');
const { ChromeSession } = require('./chrome.js');
const phones = require('../../fake-android/phone.js');
const app = require('../../fake-android/app.js');

/** @typedef {import('../../fake-android/phone').PhoneState} PhoneState */

/**
 * What appium-adb throws when an adb command fails, as UiAutomator2 passes it on.
 * @param {string} udid @param {string} command @param {string} output
 */
function adbError(udid, command, output) {
  return new Error(`Error executing adbExec. Original error: 'Command 'adb -P 5037 -s ${udid} ${command}' exited with code 1'; Command output: ${output}`);
}

/** What adb says about a phone it cannot talk to; null when it can. @param {string} udid @param {PhoneState | null} phone */
function adbRefusal(udid, phone) {
  if (!phone || phone.adbState === null) return `adb: device '${udid}' not found`;
  if (phone.adbState === 'unauthorized') return 'adb: device unauthorized.';
  if (phone.adbState === 'offline') return 'adb: device offline';
  return null;
}

/**
 * What a Chrome session answers itself rather than pass to chromedriver: Appium's own device
 * commands, as UiAutomator2 keeps them from its chromedriver.
 * @type {import('@appium/types').RouteMatcher[]}
 */
const CHROME_NO_PROXY = [
  ['GET', /^\/session\/[^/]+\/appium/],
  ['POST', /^\/session\/[^/]+\/appium/],
];

/** @extends {BaseDriver<any>} */
class FarmTestDriver extends BaseDriver {
  static newMethodMap = /** @type {const} */ ({
    '/session/:sessionId/appium/device/is_locked': { POST: { command: 'isLocked' } },
    '/session/:sessionId/appium/device/unlock': { POST: { command: 'unlock' } },
  });

  // UiAutomator2's parameters are all accepted; the app reads `component` and `extras`.
  static executeMethodMap = /** @type {const} */ ({
    'mobile: startActivity': {
      command: 'mobileStartActivity',
      params: {
        optional: ['component', 'extras', 'wait', 'stop', 'windowingMode', 'activityType', 'display', 'user', 'intent', 'action', 'package', 'uri', 'mimeType', 'identifier', 'categories', 'flags'],
      },
    },
  });

  /** @param {any} [opts] @param {boolean} [shouldValidateCaps] */
  constructor(opts, shouldValidateCaps) {
    super(opts, shouldValidateCaps);
    // UiAutomator2 takes chromedriverExecutable (and goog:chromeOptions) for Chrome; Chrome here is this host's.
    this.desiredCapConstraints = { udid: { presence: true, isString: true }, chromedriverExecutable: { isString: true } };
    /** @type {string} */
    this.udid = '';
    /** The session's Chrome, when it asked for `browserName: 'Chrome'`. @type {ChromeSession | null} */
    this.chrome = null;
  }

  /** @override @param {any} w3cCaps1 @param {any} [w3cCaps2] @param {any} [w3cCaps3] @param {any} [driverData] */
  async createSession(w3cCaps1, w3cCaps2, w3cCaps3, driverData) {
    const created = await super.createSession(w3cCaps1, w3cCaps2, w3cCaps3, driverData);
    const udid = String(this.opts.udid);
    if (adbRefusal(udid, phones.readPhone(udid)) !== null) {
      await super.deleteSession();
      const online = phones.listPhones().filter((serial) => phones.readPhone(serial)?.adbState === 'device');
      // appium-adb lists only phones adb can use; with none, it gives up after its 20 s retry.
      throw new Error(online.length === 0 ? 'Could not find a connected Android device in 20000ms.' : `Device ${udid} was not in the list of connected devices`);
    }
    this.udid = udid;
    const browserName = String(this.opts.browserName ?? '');
    if (browserName === '') return created;
    if (browserName.toLowerCase() !== 'chrome') {
      await super.deleteSession();
      throw new Error(`FarmTest drives the benchmark app or Chrome, not browserName "${browserName}"`);
    }
    this.chrome = new ChromeSession(this.log);
    try {
      // Chromium's capabilities (its version, chrome.userDataDir...) under the session's own.
      /** @type {typeof created} */
      const withChrome = [created[0], { ...(await this.chrome.start()), ...created[1] }];
      return withChrome;
    } catch (error) {
      this.chrome = null;
      await super.deleteSession();
      throw error;
    }
  }

  /** @override @param {string} [sessionId] */
  async deleteSession(sessionId) {
    try {
      await super.deleteSession(sessionId);
    } finally {
      const chrome = this.chrome;
      this.chrome = null;
      await chrome?.quit();
    }
  }

  /** @override */
  proxyActive() {
    return this.chrome !== null;
  }

  /** @override */
  canProxy() {
    return this.chrome !== null;
  }

  /** @override */
  getProxyAvoidList() {
    return CHROME_NO_PROXY;
  }

  /**
   * Passes a W3C command of a Chrome session on to its chromedriver, while adb still has the
   * phone; once it has lost it, fails as the native commands do. Appium leaves the answer to a
   * proxied command to the driver, so the error is written here.
   * @param {import('express').Request} req @param {import('express').Response} res
   */
  async proxyReqRes(req, res) {
    const proxy = this.chrome?.proxy;
    try {
      if (!proxy) throw new Error('this session has no Chrome');
      this.phone(`forward tcp:${proxy.port} localabstract:chrome_devtools_remote`);
    } catch (error) {
      const [status, body] = getResponseForW3CError(error);
      res.status(status).json(body);
      return;
    }
    await proxy.proxyReqRes(req, res);
  }

  /**
   * The phone, or the error UiAutomator2 gives when adb has lost it, for the adb command it
   * would have run. @param {string} command @returns {PhoneState}
   */
  phone(command) {
    const phone = phones.readPhone(this.udid);
    const refusal = adbRefusal(this.udid, phone);
    if (refusal !== null || !phone) throw adbError(this.udid, command, refusal ?? '');
    return phone;
  }

  async isLocked() {
    return this.phone('shell dumpsys window').screen.locked;
  }

  async unlock() {
    this.phone('shell dumpsys window');
    phones.updateFakePhone(this.udid, (phone) => {
      phone.screen.on = true;
      phone.screen.locked = false;
    });
  }

  /** @param {string} script @param {unknown} args */
  async execute(script, args) {
    return await this.executeMethod(script, Array.isArray(args) ? args : [args]);
  }

  /**
   * `am start -n <component>` with the extras; the benchmark app starts when the component is
   * the phone's. Returns what `am start` prints, as UiAutomator2 does.
   * @param {string} [component] @param {unknown} [extras]
   */
  async mobileStartActivity(component, extras) {
    const phone = this.phone(`shell am start -n ${component ?? ''}`);
    if (component !== phone.app.component) {
      const [pkg, activity = ''] = String(component).split('/');
      return `Starting: Intent { cmp=${component} }\nError type 3\nError: Activity class {${pkg}/${activity.startsWith('.') ? pkg + activity : activity}} does not exist.`;
    }
    // The app lives in this process, and runs on after the session ends, as on a phone.
    app.startBenchmark(this.udid, phone, extras, (message) => this.log.info(message));
    return `Starting: Intent { cmp=${component} (has extras) }`;
  }

  /** @param {string} remotePath */
  async pullFile(remotePath) {
    const command = `pull ${remotePath}`;
    this.phone(command);
    const local = phones.sdcardFile(this.udid, remotePath);
    if (local === null || !fs.existsSync(local)) {
      throw adbError(this.udid, command, `adb: error: failed to stat remote object '${remotePath}': No such file or directory`);
    }
    return fs.readFileSync(local).toString('base64');
  }
}

exports.FarmTestDriver = FarmTestDriver;
