export const FAULT_KINDS = ['fail', 'lose', 'hang', 'unfit'] as const;
export type FaultKind = (typeof FAULT_KINDS)[number];

/**
 * Faults by device serial: `fail` ends runs as failed, `lose` drops the device mid-run once (it
 * comes back after SIM_RETURN_MS when that is set), `hang` never finishes, `unfit` fails the
 * checks before every run (as a phone with a flat battery would).
 */
export type FaultPlan = ReadonlyMap<string, FaultKind>;

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
  return plan;
}
