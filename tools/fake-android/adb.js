// @ts-check
'use strict';
// The fake adb (run as tools/fake-android/adb) for CI: answers the commands the farm's android
// backend sends from the fake phones in FARM_FAKE_ANDROID_DIR, in real adb's formats and exit
// codes. See README.md.
const fs = require('node:fs');
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
 * @param {string} serial @param {import('./phone').PhoneState} phone @param {string[]} files @param {string[]} argv
 */
function cat(serial, phone, files, argv) {
  const sample = phones.sampleLines(phone, Date.now());
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
  if (errors.length > 0) fail(errors.join(''), 1);
}

/** @param {string} serial @param {string[]} words @param {string[]} argv */
function shell(serial, words, argv) {
  const phone = connectedPhone(serial);
  const command = words.join(' ');
  if (words[0] === 'cat' && words.length > 1) return cat(serial, phone, words.slice(1), argv);
  switch (command) {
    case 'getprop':
      return process.stdout.write(phones.getpropText(phone));
    case 'dumpsys battery':
      return process.stdout.write(phones.dumpsysBatteryText(phone));
    case 'dumpsys power':
      return process.stdout.write(phones.dumpsysPowerText(phone));
    case 'dumpsys connectivity':
      return process.stdout.write(phones.dumpsysConnectivityText(phone));
    case 'settings get global airplane_mode_on':
      return process.stdout.write(phone.network.airplane ? '1\n' : '0\n');
    case 'input keyevent KEYCODE_WAKEUP':
      phones.updateFakePhone(serial, (p) => void (p.screen.on = true));
      return;
    default:
      return unsupported(argv);
  }
}

function main() {
  const argv = process.argv.slice(2);
  if (argv[0] === 'devices' && argv.length <= 2 && (argv[1] === undefined || argv[1] === '-l')) return devices(argv[1] === '-l');
  if (argv[0] === '-s' && argv[1] && argv[2] === 'shell' && argv.length > 3) {
    // adb joins the arguments after `shell` into one command line for the phone's shell.
    return shell(argv[1], argv.slice(3).join(' ').trim().split(/\s+/), argv);
  }
  return unsupported(argv);
}

try {
  main();
} catch (error) {
  fail(`fake adb: ${error instanceof Error ? error.message : String(error)}`, 2);
}
