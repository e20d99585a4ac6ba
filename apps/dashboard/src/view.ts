// What the pages show, computed from the API's answers: kept apart from React so it is tested
// without a browser.
import type { ApiError, DeviceView, JobProgress, RunView, ScheduleSeriesKey, SeriesNight, SummaryGroup } from '@farm/contracts';
import type { EChartsCoreOption } from 'echarts/core';

export function finishedRuns(progress: JobProgress): number {
  return progress.passed + progress.failed + progress.errored + progress.cancelled + progress.timedOut;
}

export function percentDone(progress: JobProgress): number {
  return progress.total === 0 ? 0 : Math.round((100 * finishedRuns(progress)) / progress.total);
}

/** A duration in ms or an energy in mJ, to three significant figures or to a tenth. */
export function formatFigure(x: number): string {
  return x >= 100 ? x.toFixed(0) : x.toFixed(1);
}

export function formatTime(iso: string | null): string {
  return iso ? new Date(iso).toLocaleString() : '—';
}

/** The job fields of a form, as the API names them in `details[].path`; the first that fits a path wins. */
export const JOB_FORM_FIELDS = ['name', 'models', 'scenarios', 'devices.backend', 'devices.tags', 'iterations', 'devices'] as const;
export type JobFormField = (typeof JOB_FORM_FIELDS)[number];

/** The schedule form's fields: its own, then its job template's. */
export const SCHEDULE_FORM_FIELDS = ['name', 'cron', 'timeZone', 'enabled', 'baselineNights', 'webhookUrl', ...JOB_FORM_FIELDS.map((f) => `template.${f}` as const)] as const;

/**
 * The API's error details by form field (`models[1]` belongs to `models`, `devices.tags[0]`
 * to `devices.tags`); details naming no field of the form go under `form`.
 */
export function fieldErrors<F extends string>(details: ApiError['details'], fields: readonly F[]): Partial<Record<F | 'form', string[]>> {
  const byField: Partial<Record<F | 'form', string[]>> = {};
  for (const detail of details) {
    const path = detail.path.replace(/\[\d+\]/g, '');
    const field = fields.find((f) => path === f || path.startsWith(`${f}.`)) ?? 'form';
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

/** What a bar chart shows: its categories, and one series of values (null: none) per name. */
export interface Bars {
  categories: string[];
  series: { name: string; values: (number | null)[] }[];
}

/** Each figure says what made it: the simulated backend, or else the energy method for energy. */
function seriesLabel(g: SummaryGroup, energy: boolean): string {
  const source = g.backend === 'simulated' ? 'simulated' : energy ? g.energyMethod : '';
  return `${g.model} · ${g.scenario}\n${g.deviceModel}${source ? ` (${source})` : ''}`;
}

function bars(groups: readonly SummaryGroup[], names: readonly string[], value: (g: SummaryGroup, name: string) => number | null, energy: boolean): Bars {
  const categories = [...new Set(groups.map((g) => seriesLabel(g, energy)))];
  const series = names
    .map((name) => ({ name, values: categories.map((c) => groups.map((g) => (seriesLabel(g, energy) === c ? value(g, name) : null)).find((v) => v !== null) ?? null) }))
    .filter((s) => s.values.some((v) => v !== null));
  return { categories, series };
}

/**
 * One bar per device model × CNN × scenario, stacked by phase: each phase's median (ms) or mean
 * energy (mJ); a run's cold model load is left out, as the study keeps it apart.
 */
export function phaseBars(groups: readonly SummaryGroup[], measure: 'median' | 'energyMj'): Bars {
  const warm = groups.filter((g) => !g.cold && (STACKED_PHASES as readonly string[]).includes(g.phase) && g[measure] !== null);
  return bars(warm, STACKED_PHASES, (g, phase) => (g.phase === phase ? g[measure] : null), measure === 'energyMj');
}

export const TAIL_QUANTILES = ['p50', 'p90', 'p95', 'p99'] as const;

/** The spread of an iteration's total latency: its quantiles side by side, per series. */
export function tailBars(groups: readonly SummaryGroup[]): Bars {
  const totals = groups.filter((g) => g.phase === 'total');
  return bars(totals, TAIL_QUANTILES, (g, q) => g[q as (typeof TAIL_QUANTILES)[number]], false);
}

export function barChartOption(data: Bars, unit: string, options: { stacked: boolean }): EChartsCoreOption {
  return {
    aria: { enabled: true },
    animation: false,
    tooltip: { trigger: 'axis', axisPointer: { type: 'shadow' } },
    legend: { top: 0 },
    grid: { left: 60, right: 20, top: 40, bottom: 70 },
    xAxis: { type: 'category', data: data.categories, axisLabel: { interval: 0, fontSize: 11, lineHeight: 14 } },
    yAxis: { type: 'value', name: unit },
    series: data.series.map((s) => ({
      name: s.name,
      type: 'bar',
      ...(options.stacked && { stack: 'iteration' }),
      data: s.values,
      label: { show: options.stacked, formatter: (p: { value: unknown }) => (typeof p.value === 'number' ? formatFigure(p.value) : '') },
    })),
  };
}

/** A time in a given IANA zone, to the minute, as `2026-10-01 04:00 (Europe/Paris)`. */
export function formatInZone(iso: string, timeZone: string): string {
  const parts = new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }).formatToParts(new Date(iso));
  const part = (type: Intl.DateTimeFormatPartTypes): string => parts.find((p) => p.type === type)?.value ?? '';
  return `${part('year')}-${part('month')}-${part('day')} ${part('hour')}:${part('minute')} (${timeZone})`;
}

/** A series of a schedule, as the series page's address (and the API's series endpoint, under /api) names it. */
export function seriesPath(scheduleId: string, key: ScheduleSeriesKey): string {
  const query = new URLSearchParams({ deviceModel: key.deviceModel, backend: key.backend, model: key.model, scenario: key.scenario, phase: key.phase, network: key.network });
  return `/schedules/${scheduleId}/series?${query.toString()}`;
}

export function formatPercent(x: number): string {
  return `${x > 0 ? '+' : ''}${x.toFixed(1)}%`;
}

/**
 * A series night after night: its medians, the baseline each night was judged against with its
 * band of no change (drawn as a filled area between lower and upper), and the alerted nights.
 */
export function seriesChartOption(nights: readonly SeriesNight[]): EChartsCoreOption {
  const nightLabel = (n: SeriesNight): string => n.fireTime.slice(0, 16).replace('T', ' ');
  const alerted = nights.filter((n) => n.alerts.length > 0);
  return {
    aria: { enabled: true },
    animation: false,
    tooltip: { trigger: 'axis' },
    legend: { top: 0, data: ['nightly median', 'baseline', 'alert'] },
    grid: { left: 60, right: 20, top: 40, bottom: 50 },
    xAxis: { type: 'category', data: nights.map(nightLabel), axisLabel: { fontSize: 11 } },
    yAxis: { type: 'value', name: 'median ms', scale: true },
    series: [
      // The band: an invisible area up to the lower edge, and the band's width stacked on it.
      { name: 'band', type: 'line', stack: 'band', symbol: 'none', lineStyle: { opacity: 0 }, data: nights.map((n) => n.baseline?.lower ?? null), tooltip: { show: false } },
      {
        name: 'band of no change',
        type: 'line',
        stack: 'band',
        symbol: 'none',
        lineStyle: { opacity: 0 },
        areaStyle: { color: 'rgba(84, 112, 198, 0.18)' },
        data: nights.map((n) => (n.baseline ? n.baseline.upper - n.baseline.lower : null)),
        tooltip: { show: false },
      },
      { name: 'baseline', type: 'line', symbol: 'none', lineStyle: { type: 'dashed' }, data: nights.map((n) => n.baseline?.median ?? null) },
      { name: 'nightly median', type: 'line', data: nights.map((n) => n.median) },
      {
        name: 'alert',
        type: 'scatter',
        symbol: 'triangle',
        symbolSize: 14,
        itemStyle: { color: '#b00020' },
        data: alerted.map((n) => [nightLabel(n), n.median]),
        label: { show: true, position: 'top', formatter: (p: { dataIndex: number }) => (alerted[p.dataIndex]?.alerts ?? []).map((a) => formatPercent(a.changePct)).join(' ') },
      },
    ],
  };
}
