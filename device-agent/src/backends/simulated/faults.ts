import { PHASES, type Phase } from '@farm/contracts';
import { PROFILE_NAMES, type ProfileName } from './profiles';

export const FAULT_KINDS = ['fail', 'lose', 'hang', 'unfit'] as const;
export type FaultKind = (typeof FAULT_KINDS)[number];

/**
 * A change injected into a profile's timing model: one phase takes `factor` times as long in the
 * runs whose deadline is at or after `from` (every job created from then on; the assignment
 * carries the deadline, not the creation time). Regression tests use it as a real slowdown.
 */
export interface Slowdown {
  profile: ProfileName;
  phase: Phase;
  factor: number;
  from: Date;
}

/**
 * Faults by device serial: `fail` ends runs as failed, `lose` drops the device mid-run once (it
 * comes back after SIM_RETURN_MS when that is set), `hang` never finishes, `unfit` fails the
 * checks before every run (as a phone with a flat battery would). And slowdowns by profile.
 */
export interface FaultPlan {
  devices: ReadonlyMap<string, FaultKind>;
  slowdowns: readonly Slowdown[];
}

/** Parses `fail:<serial>,lose:<serial>,...`; returns a message naming the bad entry instead. */
export function parseFaults(value: string): FaultPlan | string {
  const plan = new Map<string, FaultKind>();
  for (const entry of value.split(',').map((e) => e.trim()).filter(Boolean)) {
    const [kind, serial, extra] = entry.split(':');
    if (!FAULT_KINDS.includes(kind as FaultKind) || !serial || extra !== undefined) {
      return `"${entry}" is not kind:serial with kind one of ${FAULT_KINDS.join(', ')}`;
    }
    plan.set(serial, kind as FaultKind);
  }
  return { devices: plan, slowdowns: [] };
}

/** Parses `<profile>:<phase>:<factor>:<from ISO time>,...`; returns a message naming the bad entry instead. */
export function parseSlowdowns(value: string): Slowdown[] | string {
  const slowdowns: Slowdown[] = [];
  for (const entry of value.split(',').map((e) => e.trim()).filter(Boolean)) {
    // The time has colons of its own.
    const [profile, phase, factor, ...time] = entry.split(':');
    const from = new Date(time.join(':'));
    if (
      !PROFILE_NAMES.includes(profile as ProfileName) ||
      !PHASES.includes(phase as Phase) ||
      !(Number(factor) > 0) ||
      Number.isNaN(from.getTime())
    ) {
      return `"${entry}" is not <profile>:<phase>:<factor>:<ISO time> with a profile of ${PROFILE_NAMES.join(', ')}, a phase and a factor > 0`;
    }
    slowdowns.push({ profile: profile as ProfileName, phase: phase as Phase, factor: Number(factor), from });
  }
  return slowdowns;
}
