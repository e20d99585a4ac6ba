// What the pages show, computed from the API's answers: kept apart from React so it is tested
// without a browser.
import type { ApiError, DeviceView, JobProgress, RunView, SummaryGroup } from '@farm/contracts';
import type { EChartsCoreOption } from 'echarts/core';

export function finishedRuns(progress: JobProgress): number {
  return progress.passed + progress.failed + progress.errored + progress.cancelled + progress.timedOut;
}

export function percentDone(progress: JobProgress): number {
  return progress.total === 0 ? 0 : Math.round((100 * finishedRuns(progress)) / progress.total);
}

export function formatMs(ms: number): string {
  return ms >= 100 ? ms.toFixed(0) : ms.toFixed(1);
}

export function formatTime(iso: string | null): string {
  return iso ? new Date(iso).toLocaleString() : '—';
}

/** The new-job form's fields, as the API names them in `details[].path`; the first that fits a path wins. */
export const JOB_FORM_FIELDS = ['name', 'models', 'scenarios', 'devices.backend', 'devices.tags', 'iterations', 'devices'] as const;
export type JobFormField = (typeof JOB_FORM_FIELDS)[number];

/**
 * The API's error details by form field (`models[1]` belongs to `models`, `devices.tags[0]`
 * to `devices.tags`); details naming no field of the form go under `form`.
 */
export function fieldErrors(details: ApiError['details']): Partial<Record<JobFormField | 'form', string[]>> {
  const byField: Partial<Record<JobFormField | 'form', string[]>> = {};
  for (const detail of details) {
    const path = detail.path.replace(/\[\d+\]/g, '');
    const field = JOB_FORM_FIELDS.find((f) => path === f || path.startsWith(`${f}.`)) ?? 'form';
    (byField[field] ??= []).push(field === 'form' && detail.path ? `${detail.path}: ${detail.message}` : detail.message);
  }
  return byField;
}

/** A run's colour: its status while it runs, its result once finished. */
export function runTone(run: Pick<RunView, 'status' | 'result'>): string {
  return run.status === 'finished' ? (run.result ?? 'finished') : run.status;
}

export interface RunGrid {
  columns: { key: string; model: string; scenario: string }[];
  rows: { deviceId: string; label: string; simulated: boolean; cells: (RunView | undefined)[] }[];
}

/** Runs laid out device × (model, scenario), devices named from the fleet where known. */
export function runGrid(runs: readonly RunView[], devices: readonly DeviceView[]): RunGrid {
  const key = (run: Pick<RunView, 'model' | 'scenario'>): string => `${run.model}\0${run.scenario}`;
  const columns = [...new Map(runs.map((r) => [key(r), { key: key(r), model: r.model, scenario: r.scenario }])).values()].sort(
    (a, b) => a.model.localeCompare(b.model) || a.scenario.localeCompare(b.scenario),
  );
  const fleet = new Map(devices.map((d) => [d.id, d]));
  const byDevice = new Map<string, Map<string, RunView>>();
  for (const run of runs) {
    const cells = byDevice.get(run.deviceId) ?? new Map<string, RunView>();
    cells.set(key(run), run);
    byDevice.set(run.deviceId, cells);
  }
  const rows = [...byDevice].map(([deviceId, cells]) => {
    const device = fleet.get(deviceId);
    return {
      deviceId,
      label: device ? `${device.model} (${device.serial})` : deviceId,
      simulated: device?.backend === 'simulated',
      cells: columns.map((c) => cells.get(c.key)),
    };
  });
  return { columns, rows: rows.sort((a, b) => a.label.localeCompare(b.label)) };
}

/** The phases that add up to an iteration: `total` is their sum and server_* sit inside `server`. */
export const STACKED_PHASES = ['model_load', 'preprocess', 'inference', 'postprocess', 'upload', 'server', 'download'] as const;

/** The bars of the summary chart: one per device model × CNN × scenario, stacked by phase median. */
export function phaseBars(groups: readonly SummaryGroup[]): { categories: string[]; series: { phase: string; medians: (number | null)[] }[] } {
  const stacked = groups.filter((g) => !g.cold && (STACKED_PHASES as readonly string[]).includes(g.phase));
  const label = (g: SummaryGroup): string => `${g.model} · ${g.scenario}\n${g.deviceModel}${g.backend === 'simulated' ? ' (simulated)' : ''}`;
  const categories = [...new Set(stacked.map(label))];
  const series = STACKED_PHASES.filter((phase) => stacked.some((g) => g.phase === phase)).map((phase) => ({
    phase,
    medians: categories.map((c) => stacked.find((g) => g.phase === phase && label(g) === c)?.median ?? null),
  }));
  return { categories, series };
}

export function phaseChartOption(groups: readonly SummaryGroup[]): EChartsCoreOption {
  const { categories, series } = phaseBars(groups);
  return {
    aria: { enabled: true },
    animation: false,
    tooltip: { trigger: 'axis', axisPointer: { type: 'shadow' } },
    legend: { top: 0 },
    grid: { left: 60, right: 20, top: 40, bottom: 70 },
    xAxis: { type: 'category', data: categories, axisLabel: { interval: 0, fontSize: 11 } },
    yAxis: { type: 'value', name: 'median ms' },
    series: series.map((s) => ({
      name: s.phase,
      type: 'bar',
      stack: 'iteration',
      data: s.medians,
      label: { show: true, formatter: (p: { value: unknown }) => (typeof p.value === 'number' ? formatMs(p.value) : '') },
    })),
  };
}
