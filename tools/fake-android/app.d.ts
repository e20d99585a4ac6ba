// Types of app.js: the fake phone's benchmark app.
import type { PhoneState, RecordedRun } from './phone';

/** The farm's extras, as the app reads them. */
export interface BenchExtras {
  runId: string;
  attempt: number;
  model: string;
  scenario: 'on_device' | 'cloud';
  iterations: number;
  warmup: number;
  resultFile: string;
}

/** One phase of the result file: times on the phone's uptime clock, in ms. */
export interface ResultPhase {
  iteration: number;
  warmup: boolean;
  phase: string;
  startMs: number;
  endMs: number;
}

export function parseExtras(extras: unknown): BenchExtras;
export function recordedRun(model: string): RecordedRun | null;
export function layOut(recorded: RecordedRun, extras: BenchExtras, startMs: number, timeScale: number): ResultPhase[];
export function startBenchmark(serial: string, phone: PhoneState, extras: unknown, log: (message: string) => void): NodeJS.Timeout;
