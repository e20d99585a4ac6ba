import type { JobProgress, JobView, RunView, ScenarioBreakdown, StudyPair, SummaryGroup } from '@farm/contracts';

/** A plain-text table: columns padded to their widest cell, numbers (and `-` for none among them) right-aligned. */
export function formatTable(headers: readonly string[], rows: readonly (readonly (string | number)[])[]): string {
  const cells = [headers, ...rows.map((row) => row.map(String))];
  const widths = headers.map((_, i) => Math.max(...cells.map((row) => (row[i] ?? '').length)));
  const numeric = headers.map((_, i) => rows.some((row) => isNumeric(row[i])) && rows.every((row) => isNumeric(row[i]) || row[i] === '-'));
  const line = (row: readonly string[]) =>
    row.map((cell, i) => (numeric[i] ? cell.padStart(widths[i] ?? 0) : cell.padEnd(widths[i] ?? 0))).join('  ').trimEnd();
  return [line(cells[0] ?? []), widths.map((w) => '-'.repeat(w)).join('  '), ...cells.slice(1).map(line)].join('\n');
}

/** A number, or text that is one (`12.5`, `-3`, `2.10x`, as `fixed` and ratios print them). */
function isNumeric(cell: string | number | undefined): boolean {
  return typeof cell === 'number' || (typeof cell === 'string' && /^-?\d+(\.\d+)?x?$/.test(cell));
}

export function fixed(value: number | null, digits = 1): string {
  return value === null ? '-' : value.toFixed(digits);
}

/** A job's run counts on one line, as the CLI and the demo print them while it runs. */
export function formatProgress(p: JobProgress): string {
  return `queued ${p.queued}  running ${p.running}  passed ${p.passed}  failed ${p.failed}  errored ${p.errored}  cancelled ${p.cancelled}  timed out ${p.timedOut}`;
}

/** Each phase's figures in ms per device model × CNN × scenario, energy named by its method. */
export function phaseTable(groups: readonly SummaryGroup[]): string {
  return formatTable(
    ['device', 'backend', 'model', 'scenario', 'phase', 'n', 'median', 'p90', 'min', 'max', 'energy mJ', 'energy method'],
    groups.map((g) => [
      g.deviceModel,
      g.backend,
      g.model,
      g.scenario,
      g.cold ? `${g.phase} (cold)` : g.phase,
      g.n,
      fixed(g.median, 2),
      fixed(g.p90, 2),
      fixed(g.min, 2),
      fixed(g.max, 2),
      fixed(g.energyMj, 2),
      g.energyMethod,
    ]),
  );
}

/**
 * The study's question per device model and CNN: how much slower on-device is than the cloud
 * (the ratio of median totals with its interval), what the cold model load costs, where each
 * scenario's time goes and what an inference costs in energy.
 */
export function studyTable(pairs: readonly StudyPair[]): string {
  return formatTable(
    ['device', 'backend', 'model', 'on-device ms', 'cloud ms', 'on-device/cloud', '95% interval', 'cold load ms', 'in iterations', 'on-device bottleneck', 'cloud bottleneck', 'on-device mJ', 'cloud mJ'],
    pairs.map((p) => [
      p.deviceModel,
      p.backend,
      p.model,
      fixed(p.onDevice?.medianTotalMs ?? null),
      fixed(p.cloud?.medianTotalMs ?? null),
      p.ratio ? `${p.ratio.estimate.toFixed(2)}x` : '-',
      p.ratio ? `${p.ratio.lower.toFixed(2)}-${p.ratio.upper.toFixed(2)}x` : '-',
      fixed(p.onDevice?.coldStart?.modelLoadMs ?? null),
      fixed(p.onDevice?.coldStart?.iterations ?? null),
      p.onDevice?.bottleneck ?? '-',
      p.cloud?.bottleneck ?? '-',
      energy(p.onDevice),
      energy(p.cloud),
    ]),
  );
}

function energy(scenario: ScenarioBreakdown | null): string {
  return scenario?.energyPerInferenceMj == null ? '-' : `${scenario.energyPerInferenceMj.toFixed(1)} (${scenario.energyMethod})`;
}

/** One line per run that did not pass, with why it ended. */
export function problemLines(runs: readonly RunView[]): string[] {
  return runs
    .filter((r) => r.result !== 'passed')
    .map((r) => `run ${r.id} ${r.model}/${r.scenario}: ${r.result ?? r.status}${r.errorKind ? ` (${r.errorKind}: ${r.errorMessage ?? ''})` : ''}`);
}

/** The last word on a job: its status and how many runs passed. */
export function outcomeLine(job: Pick<JobView, 'status' | 'progress'>): string {
  return `job ${job.status}: ${job.progress.passed}/${job.progress.total} runs passed`;
}
