import { VERSION_CONSTRAINT } from '@farm/contracts';

/** Compares dotted numeric versions: "13" < "13.1" < "14". Non-numeric parts count as 0. */
export function compareVersions(a: string, b: string): number {
  const pa = a.split('.').map((p) => Number.parseInt(p, 10) || 0);
  const pb = b.split('.').map((p) => Number.parseInt(p, 10) || 0);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const d = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (d !== 0) return Math.sign(d);
  }
  return 0;
}

/** Whether a version satisfies a constraint such as ">=13", "<14.1" or "12" (equal). */
export function satisfies(version: string, constraint: string): boolean {
  if (!VERSION_CONSTRAINT.test(constraint)) return false;
  const match = /^(>=|<=|>|<|=)?\s*(.+)$/.exec(constraint.trim());
  const op = match?.[1] ?? '=';
  const cmp = compareVersions(version, match?.[2] ?? '');
  switch (op) {
    case '>=':
      return cmp >= 0;
    case '<=':
      return cmp <= 0;
    case '>':
      return cmp > 0;
    case '<':
      return cmp < 0;
    default:
      return cmp === 0;
  }
}
