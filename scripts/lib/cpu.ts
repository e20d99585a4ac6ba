import { readdirSync, readFileSync } from 'node:fs';

/** CPU time (user + system) of processes, in ms, from /proc; empty where /proc is not there. */
export function cpuTimes(): Map<number, { name: string; ms: number }> {
  const times = new Map<number, { name: string; ms: number }>();
  let pids: string[];
  try {
    pids = readdirSync('/proc').filter((p) => /^\d+$/.test(p));
  } catch {
    return times;
  }
  // Clock ticks are 100 a second on every Linux this runs on (USER_HZ).
  const msPerTick = 10;
  for (const pid of pids) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const name = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      times.set(Number(pid), { name, ms: (Number(fields[11]) + Number(fields[12])) * msPerTick });
    } catch {
      // the process ended between the listing and the read
    }
  }
  return times;
}

/**
 * CPU spent between two readings, grouped: the given processes by label, and every process of
 * the given command names (e.g. `postgres`, whose backends come and go) by that name.
 */
export function cpuSpent(
  before: Map<number, { name: string; ms: number }>,
  after: Map<number, { name: string; ms: number }>,
  labels: ReadonlyMap<number, string>,
  commands: readonly string[],
): Map<string, number> {
  const spent = new Map<string, number>();
  for (const [pid, now] of after) {
    const label = labels.get(pid) ?? (commands.includes(now.name) ? now.name : undefined);
    if (!label) continue;
    spent.set(label, (spent.get(label) ?? 0) + now.ms - (before.get(pid)?.ms ?? 0));
  }
  return spent;
}
