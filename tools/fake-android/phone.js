// @ts-check
'use strict';
// The fake phone's state on disk and what its adb answers are made of. Plain CommonJS so the
// fake adb starts fast (one process per battery sample) and Appium can load the test driver
// without a compiler; types are in phone.d.ts.
const fs = require('node:fs');
const path = require('node:path');

/** @typedef {import('./phone').PhoneState} PhoneState */
/** @typedef {import('./phone').CreatePhoneOptions} CreatePhoneOptions */

/** The recorded outputs of real phones this fake answers with. */
const FIXTURES_DIR = path.resolve(__dirname, '..', '..', 'device-agent', 'src', 'backends', 'android', 'fixtures');
/** Where the fake phones live: one folder per serial. */
const ENV_DIR = 'FARM_FAKE_ANDROID_DIR';
/** BatteryManager.BATTERY_STATUS_DISCHARGING, written when the fake phone is not charging. */
const STATUS_DISCHARGING = 3;
/** The recorded connectivity dump: its default network, and a network it lists in full. */
const CONNECTIVITY_FIXTURE = 'network/dumpsys-connectivity-android-13.txt';
const RECORDED_DEFAULT_LINE = 'Active default network: 231';
const LISTED_NETWORK = 225;

/** @param {string | undefined} dir */
function phonesDir(dir) {
  const resolved = dir ?? process.env[ENV_DIR];
  if (!resolved) throw new Error(`${ENV_DIR} is not set: it names the folder of the fake phones`);
  return resolved;
}

/** @param {string} serial */
function checkSerial(serial) {
  if (!/^[A-Za-z0-9._:-]+$/.test(serial)) throw new Error(`fake phone serial "${serial}" must be letters, digits and ._:-`);
  return serial;
}

/** @param {string} serial @param {string} [dir] */
function phoneDir(serial, dir) {
  return path.join(phonesDir(dir), checkSerial(serial));
}

/** @param {string} serial @param {string} [dir] */
function phoneFile(serial, dir) {
  return path.join(phoneDir(serial, dir), 'phone.json');
}

/** Writes a file whole: a temporary name in the same folder, then a rename. @param {string} file @param {string | Buffer} data */
function writeAtomic(file, data) {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const tmp = path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.${Date.now()}.tmp`);
  fs.writeFileSync(tmp, data);
  fs.renameSync(tmp, file);
}

/** The phone's state, or null when it has no folder. @param {string} serial @param {string} [dir] @returns {PhoneState | null} */
function readPhone(serial, dir) {
  let text;
  try {
    text = fs.readFileSync(phoneFile(serial, dir), 'utf8');
  } catch (error) {
    if (/** @type {NodeJS.ErrnoException} */ (error).code === 'ENOENT') return null;
    throw error;
  }
  return /** @type {PhoneState} */ (JSON.parse(text));
}

/** Serials of every fake phone, sorted. @param {string} [dir] */
function listPhones(dir) {
  const root = phonesDir(dir);
  if (!fs.existsSync(root)) return [];
  return fs
    .readdirSync(root, { withFileTypes: true })
    .filter((entry) => entry.isDirectory() && fs.existsSync(path.join(root, entry.name, 'phone.json')))
    .map((entry) => entry.name)
    .sort();
}

/** @param {string} serial @param {PhoneState} phone @param {string} [dir] */
function writePhone(serial, phone, dir) {
  writeAtomic(phoneFile(serial, dir), `${JSON.stringify(phone, null, 2)}\n`);
}

/** @param {CreatePhoneOptions} options @returns {PhoneState} */
function defaultPhone(options) {
  const existing = listPhones(options.dir).length;
  return {
    adbState: options.adbState === undefined ? 'device' : options.adbState,
    transportId: options.transportId ?? existing + 1,
    getprop: options.getprop ?? 'google-pixel-8-pro/getprop.txt',
    memTotalKb: options.memTotalKb,
    bootTimeMs: options.bootTimeMs ?? Date.now() - 3_600_000,
    battery: {
      dumpsys: 'google-pixel-c/dumpsys-battery.txt',
      levelPct: null,
      temperatureTenthsC: null,
      charging: false,
      ...options.battery,
    },
    screen: { on: true, locked: false, ...options.screen },
    network: { airplane: false, defaultNetwork: 'cellular', ...options.network },
    app: { component: 'org.example.bench/.BenchmarkActivity', timeScale: 1, error: null, ...options.app },
    reversePorts: [],
  };
}

/** Creates (or replaces) a fake phone; its folder is `<dir>/<serial>`. @param {string} serial @param {CreatePhoneOptions} options */
function createFakePhone(serial, options) {
  const phone = defaultPhone(options);
  fs.rmSync(phoneDir(serial, options.dir), { recursive: true, force: true });
  writePhone(serial, phone, options.dir);
  return phone;
}

/**
 * Changes a fake phone while others read it: `change` edits the state in place, which is then
 * written whole. @param {string} serial @param {(phone: PhoneState) => void} change @param {string} [dir]
 */
function updateFakePhone(serial, change, dir) {
  const phone = readPhone(serial, dir);
  if (!phone) throw new Error(`no fake phone "${serial}" in ${phonesDir(dir)}`);
  change(phone);
  writePhone(serial, phone, dir);
  return phone;
}

/**
 * Pulls the USB cable: adb loses the phone, it stops charging, and adbd drops the reverse
 * forwards of that connection. @param {string} serial @param {string} [dir]
 */
function unplugFakePhone(serial, dir) {
  return updateFakePhone(
    serial,
    (phone) => {
      phone.adbState = null;
      phone.battery.charging = false;
      phone.reversePorts = [];
    },
    dir,
  );
}

/** Starts or stops charging, leaving adb as it is. @param {string} serial @param {boolean} charging @param {string} [dir] */
function setFakePhoneCharging(serial, charging, dir) {
  return updateFakePhone(serial, (phone) => void (phone.battery.charging = charging), dir);
}

/** The phone's uptime in whole hundredths of a second, as the kernel counts it. @param {PhoneState} phone @param {number} nowMs */
function uptimeCentis(phone, nowMs) {
  return Math.floor((nowMs - phone.bootTimeMs) / 10);
}

/** `current_now` in µA at an uptime in seconds: a + b·t, rounded to the integer the kernel prints. @param {PhoneState} phone @param {number} uptimeS */
function batteryCurrentUa(phone, uptimeS) {
  const { a, b } = phone.battery.currentUa;
  return Math.round(a + b * uptimeS);
}

/** The three lines of `cat /proc/uptime current_now voltage_now`, all at one rounded uptime. @param {PhoneState} phone @param {number} nowMs */
function sampleLines(phone, nowMs) {
  const centis = uptimeCentis(phone, nowMs);
  const uptime = `${Math.floor(centis / 100)}.${String(centis % 100).padStart(2, '0')}`;
  // The second field (idle time summed over cores) is printed for the format; the farm does not read it.
  return { uptime: `${uptime} ${uptime}`, currentNow: String(batteryCurrentUa(phone, centis / 100)), voltageNow: String(phone.battery.voltageUv) };
}

/**
 * `date +%s%N` and the battery files read right after it: the wall clock in ns since the epoch
 * (`nowNs`, the fake phone's clock is this host's), and current_now at that same instant.
 * @param {PhoneState} phone @param {bigint} nowNs
 */
function wallClockSampleLines(phone, nowNs) {
  const uptimeS = (Number(nowNs) / 1e6 - phone.bootTimeMs) / 1000;
  return { date: String(nowNs), currentNow: String(batteryCurrentUa(phone, uptimeS)), voltageNow: String(phone.battery.voltageUv) };
}

/** @param {string} name */
function fixture(name) {
  return fs.readFileSync(path.join(FIXTURES_DIR, name), 'utf8');
}

/** `adb shell getprop`: the recorded output, as is. @param {PhoneState} phone */
function getpropText(phone) {
  return fixture(phone.getprop);
}

/** @param {string} text @param {string} key */
function getpropValue(text, key) {
  const match = new RegExp(`^\\[${key.replace(/\./g, '\\.')}\\]: \\[(.*)\\]$`, 'm').exec(text);
  return match ? match[1] : '';
}

/**
 * `adb shell dumpsys battery`: the recorded output with only the fields the phone varies
 * replaced: `level`, `temperature`, and for a phone that is not charging every
 * `<X> powered` set to false and `status` to 3 (discharging).
 * @param {PhoneState} phone
 */
function dumpsysBatteryText(phone) {
  const { levelPct, temperatureTenthsC, charging } = phone.battery;
  /** @param {string} text @param {RegExp} line @param {string} value */
  const set = (text, line, value) => {
    if (!line.test(text)) throw new Error(`${phone.battery.dumpsys} has no line ${line}`);
    return text.replace(line, `$1${value}`);
  };
  let text = fixture(phone.battery.dumpsys);
  if (levelPct !== null) text = set(text, /^( {2}level: ).*$/m, String(levelPct));
  if (temperatureTenthsC !== null) text = set(text, /^( {2}temperature: ).*$/m, String(temperatureTenthsC));
  if (!charging) {
    text = text.replace(/^( {2}(?:AC|USB|Wireless|Dock) powered: )true$/gm, '$1false');
    text = set(text, /^( {2}status: ).*$/m, String(STATUS_DISCHARGING));
  }
  return text;
}

/**
 * `adb shell dumpsys connectivity`, from the recorded Android 13 dump: `cellular` names its
 * listed mobile network as the default; `wifi` does the same with that network's `ni{MOBILE[LTE]`
 * replaced by `ni{WIFI[]` (no recorded Wi-Fi dump was found); `none` (and airplane mode) says
 * `Active default network: none`.
 * @param {PhoneState} phone
 */
function dumpsysConnectivityText(phone) {
  const text = fixture(CONNECTIVITY_FIXTURE);
  const network = phone.network.airplane ? 'none' : phone.network.defaultNetwork;
  if (network === 'none') return text.replace(RECORDED_DEFAULT_LINE, 'Active default network: none');
  const listed = text.replace(RECORDED_DEFAULT_LINE, `Active default network: ${LISTED_NETWORK}`);
  return network === 'wifi' ? listed.replace('ni{MOBILE[LTE]', 'ni{WIFI[]') : listed;
}

/**
 * `adb shell dumpsys power`: the first lines of PowerManagerService's dump (its header and the
 * state fields before the wake locks), with the phone's wakefulness, power and level.
 * @param {PhoneState} phone
 */
function dumpsysPowerText(phone) {
  const battery = dumpsysBatteryText(phone);
  const level = /^ {2}level: (\d+)$/m.exec(battery)?.[1] ?? '';
  const plugged = ['AC', 'USB', 'Wireless', 'Dock'].findIndex((source) => battery.includes(`  ${source} powered: true`));
  return [
    'POWER MANAGER (dumpsys power)',
    '',
    'Power Manager State:',
    '  mDirty=0x0',
    `  mWakefulness=${phone.screen.on ? 'Awake' : 'Asleep'}`,
    '  mWakefulnessChanging=false',
    `  mIsPowered=${plugged >= 0}`,
    // BatteryManager.BATTERY_PLUGGED_*: AC 1, USB 2, wireless 4, dock 8; 0 on battery.
    `  mPlugType=${plugged < 0 ? 0 : 2 ** plugged}`,
    `  mBatteryLevel=${level}`,
    '',
  ].join('\n');
}

/** `/proc/meminfo`'s first line, as the kernel prints it (`%8lu kB`). @param {PhoneState} phone */
function meminfoText(phone) {
  return `MemTotal:       ${String(phone.memTotalKb).padStart(8)} kB\n`;
}

/** adb's word for the listing, with `-l`'s details for a phone it can talk to. @param {string} serial @param {PhoneState} phone @param {boolean} long */
function devicesLine(serial, phone, long) {
  const state = /** @type {string} */ (phone.adbState);
  if (!long) return `${serial}\t${state}`;
  let line = `${serial.padEnd(22)} ${state}`;
  if (state === 'device') {
    const props = getpropText(phone);
    // adb prints the model with every character but letters, digits and _ turned into _.
    line += ` product:${getpropValue(props, 'ro.product.name')} model:${getpropValue(props, 'ro.product.model').replace(/[^A-Za-z0-9_]/g, '_')} device:${getpropValue(props, 'ro.product.device')}`;
  }
  return `${line} transport_id:${phone.transportId}`;
}

/** The phone's shared storage (`/sdcard/...`) on disk. @param {string} serial @param {string} [dir] */
function sdcardDir(serial, dir) {
  return path.join(phoneDir(serial, dir), 'sdcard');
}

/** A `/sdcard/...` path of the phone as a file on disk; null for any other path. @param {string} serial @param {string} remote @param {string} [dir] */
function sdcardFile(serial, remote, dir) {
  const normal = path.posix.normalize(remote);
  if (!normal.startsWith('/sdcard/')) return null;
  return path.join(sdcardDir(serial, dir), normal.slice('/sdcard/'.length));
}

/** Where the benchmark app writes its result. @param {string} packageName @param {string} resultFile */
function resultRemotePath(packageName, resultFile) {
  return `/sdcard/Android/data/${packageName}/files/farm/${resultFile}`;
}

module.exports = {
  ENV_DIR,
  FIXTURES_DIR,
  phoneDir,
  readPhone,
  listPhones,
  createFakePhone,
  updateFakePhone,
  unplugFakePhone,
  setFakePhoneCharging,
  writeAtomic,
  uptimeCentis,
  batteryCurrentUa,
  sampleLines,
  wallClockSampleLines,
  getpropText,
  dumpsysBatteryText,
  dumpsysConnectivityText,
  dumpsysPowerText,
  meminfoText,
  devicesLine,
  sdcardFile,
  resultRemotePath,
};
