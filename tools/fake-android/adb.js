// @ts-check
'use strict';
// The fake adb (run as tools/fake-android/adb) for CI: answers the commands the farm's android
// backend sends from the fake phones in FARM_FAKE_ANDROID_DIR, in real adb's formats and exit
// codes. See README.md.
const fs = require('node:fs');
const { performance } = require('node:perf_hooks');
const phones = require('./phone.js');

/** @param {string} text @param {number} code @returns {never} */
function fail(text, code) {
  process.stderr.write(text.endsWith('\n') ? text : `${text}\n`);
  process.exit(code);
}

/** @param {string[]} argv @returns {never} */
function unsupported(argv) {
  return fail(`fake adb: unsupported command: ${argv.join(' ')}`, 2);
}

/** @param {string} serial */
function connectedPhone(serial) {
  const phone = phones.readPhone(serial);
  if (!phone || phone.adbState === null) return fail(`adb: device '${serial}' not found`, 1);
  if (phone.adbState === 'unauthorized') {
    return fail(
      "adb: device unauthorized.\nThis adb server's $ADB_VENDOR_KEYS is not set\nTry 'adb kill-server' if that seems wrong.\nOtherwise check for a confirmation dialog on your device.",
      1,
    );
  }
  if (phone.adbState === 'offline') return fail('adb: device offline', 1);
  return phone;
}

/** @param {boolean} long */
function devices(long) {
  const lines = phones.listPhones().flatMap((serial) => {
    const phone = phones.readPhone(serial);
    return phone && phone.adbState !== null ? [phones.devicesLine(serial, phone, long)] : [];
  });
  process.stdout.write(`List of devices attached\n${lines.map((line) => `${line}\n`).join('')}\n`);
}

/**
 * `cat`: the phone's virtual files, and its shared storage. Like toybox, a missing file is
 * reported on stderr, the others are still printed, and the exit code is 1.
 * @param {string} serial @param {import('./phone').PhoneState} phone @param {Sample} sample @param {string[]} files @param {string[]} argv
 * @returns {number}
 */
function cat(serial, phone, sample, files, argv) {
  /** @type {Record<string, () => string>} */
  const virtual = {
    '/proc/uptime': () => `${sample.uptime}\n`,
    '/proc/meminfo': () => phones.meminfoText(phone),
    '/sys/class/power_supply/battery/current_now': () => `${sample.currentNow}\n`,
    '/sys/class/power_supply/battery/voltage_now': () => `${sample.voltageNow}\n`,
  };
  const out = [];
  const errors = [];
  for (const file of files) {
    const read = virtual[file];
    if (read) {
      out.push(read());
      continue;
    }
    const local = phones.sdcardFile(serial, file);
    if (local === null) return unsupported(argv);
    try {
      out.push(fs.readFileSync(local));
    } catch {
      errors.push(`cat: ${file}: No such file or directory\n`);
    }
  }
  for (const chunk of out) process.stdout.write(chunk);
  process.stderr.write(errors.join(''));
  return errors.length > 0 ? 1 : 0;
}

/**
 * @typedef {{ uptime: string, currentNow: string, voltageNow: string, date: string }} Sample
 * The phone's clocks and battery, read once per command line. The battery files give the current
 * at the instant of the clock the line prints: the wall clock of `date +%s%N` when the line runs
 * it, otherwise the uptime of `/proc/uptime` (in the kernel's hundredths).
 */

/** @param {import('./phone').PhoneState} phone @param {boolean} wallClock @returns {Sample} */
function readSample(phone, wallClock) {
  const nowNs = BigInt(Math.round((performance.timeOrigin + performance.now()) * 1e6));
  const byUptime = phones.sampleLines(phone, Number(nowNs / 1_000_000n));
  const byWallClock = phones.wallClockSampleLines(phone, nowNs);
  return { ...byUptime, ...(wallClock ? byWallClock : { date: byWallClock.date }) };
}

/**
 * One command of the phone's shell; returns its exit code.
 * @param {string} serial @param {import('./phone').PhoneState} phone @param {Sample} sample @param {string[]} words @param {string[]} argv
 * @returns {number}
 */
function runCommand(serial, phone, sample, words, argv) {
  if (words[0] === 'cat' && words.length > 1) return cat(serial, phone, sample, words.slice(1), argv);
  switch (words.join(' ')) {
    case 'date +%s%N':
      process.stdout.write(`${sample.date}\n`);
      return 0;
    case 'getprop':
      process.stdout.write(phones.getpropText(phone));
      return 0;
    case 'dumpsys battery':
      process.stdout.write(phones.dumpsysBatteryText(phone));
      return 0;
    case 'dumpsys power':
      process.stdout.write(phones.dumpsysPowerText(phone));
      return 0;
    case 'dumpsys connectivity':
      process.stdout.write(phones.dumpsysConnectivityText(phone));
      return 0;
    case 'settings get global airplane_mode_on':
      process.stdout.write(phone.network.airplane ? '1\n' : '0\n');
      return 0;
    case 'input keyevent KEYCODE_WAKEUP':
      phones.updateFakePhone(serial, (p) => void (p.screen.on = true));
      return 0;
    default:
      return unsupported(argv);
  }
}

/**
 * A command line for the phone's shell: commands separated by `;` run one after the other, the
 * exit code is the last one's.
 * @param {string} serial @param {string[]} words @param {string[]} argv
 */
function shell(serial, words, argv) {
  const phone = connectedPhone(serial);
  /** @type {string[]} */
  let current = [];
  const commands = [current];
  for (const word of words) {
    if (word === ';') commands.push((current = []));
    else current.push(word);
  }
  if (commands.some((command) => command.length === 0)) return unsupported(argv);
  const sample = readSample(phone, commands.some((command) => command.join(' ') === 'date +%s%N'));
  for (const command of commands) process.exitCode = runCommand(serial, phone, sample, command, argv);
}

/** `tcp:P` with a port adb accepts, as its number; null for anything else. @param {string | undefined} spec */
function tcpPort(spec) {
  const port = /^tcp:(\d{1,5})$/.exec(spec ?? '')?.[1];
  return port !== undefined && Number(port) >= 1 && Number(port) <= 65535 ? Number(port) : null;
}

/**
 * `adb reverse`: only `tcp:P tcp:P` (the fake phone is this host, so the port on the phone is
 * the port on the host), `--remove tcp:P` and `--list`. adbd lists its listeners as
 * `<transport> <on the phone> <on the host>`, its USB transport named `UsbFfs`.
 * @param {string} serial @param {string[]} args @param {string[]} argv
 */
function reverse(serial, args, argv) {
  const [first, second] = args;
  if (args.length === 1 && first === '--list') {
    const phone = connectedPhone(serial);
    return process.stdout.write(phone.reversePorts.map((port) => `UsbFfs tcp:${port} tcp:${port}\n`).join(''));
  }
  if (args.length === 2 && first === '--remove' && tcpPort(second) !== null) {
    const port = /** @type {number} */ (tcpPort(second));
    if (!connectedPhone(serial).reversePorts.includes(port)) return fail(`adb: error: listener '${second}' not found`, 1);
    phones.updateFakePhone(serial, (p) => void (p.reversePorts = p.reversePorts.filter((kept) => kept !== port)));
    return;
  }
  const port = tcpPort(first);
  if (args.length !== 2 || port === null || second !== first) return unsupported(argv);
  connectedPhone(serial);
  phones.updateFakePhone(serial, (p) => void (p.reversePorts.includes(port) || p.reversePorts.push(port)));
  // adbd answers with the port it listens on, and adb prints it.
  process.stdout.write(`${port}\n`);
}

function main() {
  const argv = process.argv.slice(2);
  if (argv[0] === 'devices' && argv.length <= 2 && (argv[1] === undefined || argv[1] === '-l')) return devices(argv[1] === '-l');
  if (argv[0] === '-s' && argv[1] && argv[2] === 'shell' && argv.length > 3) {
    // adb joins the arguments after `shell` into one command line for the phone's shell.
    return shell(argv[1], argv.slice(3).join(' ').trim().split(/\s+/), argv);
  }
  if (argv[0] === '-s' && argv[1] && argv[2] === 'reverse') return reverse(argv[1], argv.slice(3), argv);
  return unsupported(argv);
}

try {
  main();
} catch (error) {
  fail(`fake adb: ${error instanceof Error ? error.message : String(error)}`, 2);
}
