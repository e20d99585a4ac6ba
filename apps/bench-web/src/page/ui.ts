import { BENCH_MODELS, BENCH_SCENARIOS, PHASES, QUERY_NAMES, type BenchResult, type BenchState, type Phase } from '@farm/contracts';
import { median } from './timing';

const PHASE_ORDER: readonly Phase[] = PHASES;

function el<K extends keyof HTMLElementTagNameMap>(tag: K, text?: string, attrs: Record<string, string> = {}): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  if (text !== undefined) node.textContent = text;
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
  return node;
}

function formatMs(ms: number | null): string {
  if (ms === null) return '–';
  return ms >= 100 ? ms.toFixed(0) : ms >= 10 ? ms.toFixed(1) : ms.toFixed(3);
}

/** Per phase: rows and median of the measured iterations (warm-up ones and model_load apart). */
export function phaseMedians(result: Readonly<BenchResult>): { phase: Phase; n: number; warmup: number; medianMs: number | null }[] {
  return PHASE_ORDER.flatMap((phase) => {
    const rows = result.measurements.filter((m) => m.phase === phase);
    if (rows.length === 0) return [];
    const measured = rows.filter((m) => !m.warmup).map((m) => m.durationMs);
    return [{ phase, n: measured.length, warmup: rows.length - measured.length, medianMs: median(measured) }];
  });
}

/** The page a person sees: a form for the parameters, progress, and a table of phase medians. */
export class BenchView {
  private readonly status = el('p', 'idle', { id: 'status' });
  private readonly bar = el('progress', undefined, { id: 'progress', max: '1', value: '0' });
  private readonly table = el('table', undefined, { id: 'medians' });
  private readonly meta = el('p', '', { id: 'meta' });
  private lastTable = 0;

  constructor(root: HTMLElement, query: URLSearchParams) {
    const form = el('form', undefined, { id: 'params', method: 'get' });
    const field = (label: string, input: HTMLElement): void => {
      const l = el('label', `${label} `);
      l.append(input);
      form.append(l, ' ');
    };
    const select = (name: string, options: readonly string[]): HTMLSelectElement => {
      const s = el('select', undefined, { name });
      for (const o of options) s.append(el('option', o, { value: o }));
      s.value = query.get(name) ?? options[0];
      return s;
    };
    const input = (name: string, fallback: string, size = '6'): HTMLInputElement => el('input', undefined, { name, value: query.get(name) ?? fallback, size });
    field('model', select(QUERY_NAMES.model, BENCH_MODELS));
    field('scenario', select(QUERY_NAMES.scenario, BENCH_SCENARIOS));
    field('iterations', input(QUERY_NAMES.iterations, '20', '4'));
    field('warm-up', input(QUERY_NAMES.warmup, '3', '4'));
    field('inference server', input(QUERY_NAMES.inferenceUrl, '', '28'));
    field('images', input(QUERY_NAMES.images, '', '28'));
    form.append(el('input', undefined, { type: 'hidden', name: QUERY_NAMES.autostart, value: '1' }), el('button', 'Start', { type: 'submit' }));
    root.append(el('h1', 'bench-web: on-device vs cloud inference'), form, this.status, this.bar, this.meta, this.table);
  }

  update(state: BenchState, result: Readonly<BenchResult> | null): void {
    const { iteration, of } = state.progress;
    this.status.textContent = state.status === 'error' ? `error: ${state.error ?? 'unknown'}` : `${state.status}: iteration ${iteration} of ${of}`;
    this.status.className = state.status;
    this.bar.max = Math.max(1, of);
    this.bar.value = iteration;
    if (!result) return;
    this.meta.textContent = `${result.model}, ${result.scenario}, tfjs ${result.tfjsVersion} (${result.backend}), cross-origin isolated: ${result.crossOriginIsolated}, timer step ${(result.timerResolutionMs * 1000).toFixed(0)} µs`;
    // Redrawing the table is kept rare while running: rendering shares the page's one thread.
    const now = performance.now();
    if (state.status === 'running' && now - this.lastTable < 1000) return;
    this.lastTable = now;
    const head = el('tr');
    for (const h of ['phase', 'n', 'warm-up', 'median ms']) head.append(el('th', h));
    const rows = phaseMedians(result).map((m) => {
      const tr = el('tr', undefined, { 'data-phase': m.phase });
      tr.append(el('td', m.phase), el('td', String(m.n)), el('td', String(m.warmup)), el('td', formatMs(m.medianMs)));
      return tr;
    });
    this.table.replaceChildren(head, ...rows);
  }
}
