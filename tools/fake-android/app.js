// @ts-check
'use strict';
// The fake phone's benchmark "app" (docs/android-apk.md): started with the farm's extras, it
// replays a recorded real run's phase durations in real time on the phone's uptime clock, then
// writes its result file the way the contract asks (temporary name, then rename).
const fs = require('node:fs');
const path = require('node:path');
const { performance } = require('node:perf_hooks');
const phones = require('./phone.js');

/** @typedef {import('./phone').PhoneState} PhoneState */
/** @typedef {import('./phone').RecordedRun} RecordedRun */
/** @typedef {import('./app').BenchExtras} BenchExtras */
/** @typedef {import('./app').ResultPhase} ResultPhase */

/** Phases of one iteration, in order, each placed after the one before. */
const LEAVES = { on_device: ['preprocess', 'inference', 'postprocess'], cloud: ['preprocess', 'upload', 'server', 'download'] };
const SERVER_PARTS = ['server_preprocess', 'server_inference', 'server_postprocess'];

/**
 * Reads `mobile: startActivity` extras (`[type, key, value]`, UiAutomator2's format) into the
 * farm's parameters; throws naming the first missing or malformed one.
 * @param {unknown} extras @returns {BenchExtras}
 */
function parseExtras(extras) {
  /** @type {Map<string, { type: string, value: string }>} */
  const given = new Map();
  for (const entry of Array.isArray(extras) ? extras : []) {
    if (!Array.isArray(entry) || entry.length !== 3) throw new Error(`an extra must be [type, key, value], got ${JSON.stringify(entry)}`);
    given.set(String(entry[1]), { type: String(entry[0]), value: String(entry[2]) });
  }
  /** @param {string} key */
  const string = (key) => {
    const extra = given.get(key);
    if (!extra || extra.type !== 's') throw new Error(`extra ${key} must be given as a string (s)`);
    return extra.value;
  };
  /** @param {string} key */
  const int = (key) => {
    const extra = given.get(key);
    if (!extra || extra.type !== 'i' || !/^-?\d+$/.test(extra.value)) throw new Error(`extra ${key} must be given as an int (i)`);
    return Number(extra.value);
  };
  const scenario = string('farm.scenario');
  if (scenario !== 'on_device' && scenario !== 'cloud') throw new Error(`extra farm.scenario must be on_device or cloud, got "${scenario}"`);
  return {
    runId: string('farm.run_id'),
    attempt: int('farm.attempt'),
    model: string('farm.model'),
    scenario,
    iterations: int('farm.iterations'),
    warmup: int('farm.warmup'),
    resultFile: string('farm.result_file'),
  };
}

/** The recorded run of a model, or null when none was recorded. @param {string} model @returns {RecordedRun | null} */
function recordedRun(model) {
  const file = path.join(__dirname, `recorded-run.${model}.json`);
  if (!/^[a-z0-9_]+$/.test(model) || !fs.existsSync(file)) return null;
  return /** @type {RecordedRun} */ (JSON.parse(fs.readFileSync(file, 'utf8')));
}

/**
 * Lays out a run's phases from `startMs` on: iteration i replays the recorded iteration of the
 * same kind (warm-up ones the recorded warm-ups, measured ones the recorded measured ones),
 * cycling; every duration is multiplied by `timeScale`. Phases tile each iteration, iterations
 * follow each other, and the server's parts sit one after another at the start of `server`.
 * @param {RecordedRun} recorded @param {BenchExtras} extras @param {number} startMs @param {number} timeScale
 * @returns {ResultPhase[]}
 */
function layOut(recorded, extras, startMs, timeScale) {
  const rows = recorded.scenarios[extras.scenario];
  /** @param {number} iteration @param {string} phase */
  const duration = (iteration, phase) => {
    const row = rows.find((r) => r.iteration === iteration && r.phase === phase);
    if (!row) throw new Error(`the recorded run has no ${phase} in iteration ${iteration}`);
    return row.durationMs * timeScale;
  };
  /** @param {number} i */
  const source = (i) =>
    i <= extras.warmup ? ((i - 1) % recorded.warmup) + 1 : recorded.warmup + ((i - extras.warmup - 1) % recorded.iterations) + 1;
  /** @type {ResultPhase[]} */
  const phases = [];
  let at = startMs;
  if (extras.scenario === 'on_device') {
    phases.push({ iteration: 0, warmup: false, phase: 'model_load', startMs: at, endMs: at + duration(0, 'model_load') });
    at = phases[0].endMs;
  }
  for (let i = 1; i <= extras.warmup + extras.iterations; i++) {
    const from = source(i);
    const warmup = i <= extras.warmup;
    const first = at;
    for (const phase of LEAVES[extras.scenario]) {
      const end = at + duration(from, phase);
      phases.push({ iteration: i, warmup, phase, startMs: at, endMs: end });
      if (phase === 'server') {
        let inner = at;
        for (const part of SERVER_PARTS) {
          const partEnd = Math.min(end, inner + duration(from, part));
          phases.push({ iteration: i, warmup, phase: part, startMs: inner, endMs: partEnd });
          inner = partEnd;
        }
      }
      at = end;
    }
    phases.push({ iteration: i, warmup, phase: 'total', startMs: first, endMs: at });
  }
  return phases;
}

/** The phone's uptime now, in fractional ms (elapsedRealtimeNanos() / 1e6). @param {PhoneState} phone */
function uptimeMs(phone) {
  return performance.timeOrigin + performance.now() - phone.bootTimeMs;
}

/**
 * Starts the benchmark on a phone. Returns the timer of the run (the app lives in the calling
 * process), or throws when the extras cannot start a run.
 * @param {string} serial @param {PhoneState} phone @param {unknown} rawExtras @param {(message: string) => void} log
 */
function startBenchmark(serial, phone, rawExtras, log) {
  const extras = parseExtras(rawExtras);
  const packageName = phone.app.component.split('/')[0];
  const recorded = recordedRun(extras.model);
  const start = uptimeMs(phone);
  const planned = recorded ? layOut(recorded, extras, start, phone.app.timeScale) : [];
  // A failing app stops after its first inference iteration; phases measured before stay.
  const error = recorded === null ? `no recorded run of model ${extras.model}` : phone.app.error;
  const phases = error === null ? planned : planned.filter((p) => p.iteration <= 1);
  const end = phases.reduce((latest, p) => Math.max(latest, p.endMs), start);
  const result = {
    farmBench: 1,
    runId: extras.runId,
    attempt: extras.attempt,
    model: extras.model,
    scenario: extras.scenario,
    runtime: { name: 'bench-web replay', version: recorded?.tfjsVersion ?? null, delegate: extras.scenario === 'on_device' ? 'wasm' : null },
    phases,
    top1: error === null && recorded ? recorded.top1[extras.scenario] : null,
    error,
  };
  const remote = phones.resultRemotePath(packageName, extras.resultFile);
  const file = phones.sdcardFile(serial, remote);
  if (file === null || path.basename(file) !== extras.resultFile) throw new Error(`extra farm.result_file must be a file name, got "${extras.resultFile}"`);
  log(`${serial}: ${extras.model} ${extras.scenario} runs until uptime ${(end / 1000).toFixed(3)} s, then writes ${remote}`);
  return setTimeout(() => phones.writeAtomic(file, `${JSON.stringify(result, null, 1)}\n`), Math.max(0, end - uptimeMs(phone)));
}

module.exports = { parseExtras, layOut, recordedRun, startBenchmark };
