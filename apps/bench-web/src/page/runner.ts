import * as tf from '@tensorflow/tfjs';
import type { Measurement, Phase } from '@farm/contracts';
import {
  checkWeights,
  fetchModelArtifacts,
  getModelSpec,
  isBundledModel,
  loadTfModel,
  modelFilesHandler,
  postprocess,
  preprocessImage,
  runInference,
  runnableSpec,
  toInputTensor,
  type RunnableSpec,
  type TfModel,
} from '@farm/models/browser';
import { fetchModelView, type ModelView } from '@farm/contracts';
import {
  checkBenchParams,
  DEFAULT_JPEG_QUALITY,
  LIMITS,
  type BenchParams,
  type BenchResult,
  type BenchState,
  type BenchStatus,
  type BenchWebApi,
  type ModelLoadBreakdown,
} from '@farm/contracts';
import { splitCloud } from './timing';
import { initTfBackend } from './tfjs-setup';
import { encodeForUpload } from './upload-image';

type Resolved = BenchResult['params'];

interface TestImage {
  name: string;
  bytes: Uint8Array;
}

/** An inference request that takes longer fails the run rather than hang it until the run's timeout. */
const CLOUD_REQUEST_TIMEOUT_MS = 60_000;

/** The model to run: a bundled one served by this page's server, or a registered one on the API. */
interface ModelSource {
  spec: RunnableSpec;
  /** The API's spec of a registered model (its files and sha256); null for a bundled one. */
  registered: { apiUrl: string; view: ModelView } | null;
}

interface InferAnswer {
  topk: { className: string; probability: number }[];
  timings: { server: number; server_preprocess: number; server_inference: number; server_postprocess: number };
}

export interface RunnerEnvironment {
  /** The page's own base URL: models, images and wasm binaries are served below it. */
  base: URL;
  version: string;
  timerResolutionMs: number;
  /** Called after every iteration and on every change of status. */
  onUpdate(): void;
}

const nextTask = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 0));

function isInferAnswer(value: unknown): value is InferAnswer {
  if (typeof value !== 'object' || value === null) return false;
  const { topk, timings } = value as Partial<InferAnswer>;
  const number = (v: unknown): boolean => typeof v === 'number' && Number.isFinite(v) && v >= 0;
  return (
    Array.isArray(topk) &&
    topk.length > 0 &&
    topk.every((t) => typeof t?.className === 'string' && typeof t?.probability === 'number') &&
    typeof timings === 'object' &&
    timings !== null &&
    number(timings.server) &&
    number(timings.server_preprocess) &&
    number(timings.server_inference) &&
    number(timings.server_postprocess)
  );
}

/** Runs one benchmark at a time in this page and keeps its state and result: `window.benchWeb`. */
export class BenchRunner implements BenchWebApi {
  readonly version: string;
  private status: BenchStatus = 'idle';
  private progress = { iteration: 0, of: 0 };
  private error: string | undefined;
  private result: BenchResult | null = null;

  constructor(private readonly env: RunnerEnvironment) {
    this.version = env.version;
  }

  state(): BenchState {
    return { status: this.status, progress: { ...this.progress }, ...(this.error !== undefined ? { error: this.error } : {}) };
  }

  results(): BenchResult {
    if (!this.result) throw new Error('no benchmark has started in this page');
    return { ...this.result, measurements: [...this.result.measurements], phaseStarts: [...this.result.phaseStarts], top1: [...this.result.top1] };
  }

  /** The live result for the page's own view, not copied: the view reads it after every iteration. */
  current(): Readonly<BenchResult> | null {
    return this.result;
  }

  /** Puts the page in the error state without running (bad URL parameters with autostart). */
  fail(message: string): void {
    this.status = 'error';
    this.error = message;
    this.env.onUpdate();
  }

  async start(params: BenchParams): Promise<void> {
    if (this.status === 'running') throw new Error('a benchmark is already running in this page');
    const checked = checkBenchParams(params);
    if (!checked.ok) {
      const message = `bad parameters: ${checked.problems.join('; ')}`;
      this.fail(message);
      throw new Error(message);
    }
    const p = checked.params;
    const resolved: Resolved = {
      model: p.model,
      scenario: p.scenario,
      iterations: p.iterations,
      warmup: p.warmup,
      inferenceUrl: p.inferenceUrl ?? null,
      apiUrl: p.apiUrl ?? null,
      images: p.images ?? [],
      topk: p.topk ?? LIMITS.topk.max,
      backend: p.backend ?? 'wasm',
      jpegQuality: p.jpegQuality ?? DEFAULT_JPEG_QUALITY,
    };
    this.status = 'running';
    this.error = undefined;
    this.progress = { iteration: 0, of: p.warmup + p.iterations };
    this.result = {
      version: this.version,
      backend: p.scenario === 'on_device' ? resolved.backend : 'none',
      tfjsVersion: tf.version.tfjs,
      userAgent: navigator.userAgent,
      crossOriginIsolated: globalThis.crossOriginIsolated === true,
      timerResolutionMs: this.env.timerResolutionMs,
      wasm: null,
      model: p.model,
      scenario: p.scenario,
      params: resolved,
      measurements: [],
      timeOrigin: performance.timeOrigin,
      phaseStarts: [],
      top1: [],
      modelLoad: null,
      cloudSplit: p.scenario === 'cloud' ? { resourceTiming: 0, fetch: 0 } : null,
      startedAt: new Date().toISOString(),
      finishedAt: null,
    };
    this.env.onUpdate();
    try {
      const [images, source] = await Promise.all([this.loadImages(resolved.images), this.resolveModel(p.model, resolved.apiUrl)]);
      resolved.images = images.map((i) => i.name);
      // A model with fewer classes than the default top-k ranks all of them.
      resolved.topk = Math.min(resolved.topk, source.spec.classNames.length);
      if (p.scenario === 'on_device') await this.runOnDevice(this.result, images, source);
      else await this.runCloud(this.result, images, source.spec);
      this.result.finishedAt = new Date().toISOString();
      this.status = 'done';
    } catch (err) {
      this.result.finishedAt = new Date().toISOString();
      this.status = 'error';
      this.error = err instanceof Error ? err.message : String(err);
      throw err;
    } finally {
      this.env.onUpdate();
    }
  }

  private url(path: string): string {
    return new URL(path, this.env.base).href;
  }

  /** Fetched before any timing starts: reading the input is not one of the study's phases. */
  private async loadImages(names: string[]): Promise<TestImage[]> {
    let wanted = names;
    if (wanted.length === 0) {
      const res = await fetch(this.url('images/manifest.json'), { cache: 'no-store' });
      if (!res.ok) throw new Error(`the image manifest answered ${res.status}`);
      const manifest = (await res.json()) as { images?: { file?: unknown }[] };
      wanted = (manifest.images ?? []).map((i) => i.file).filter((f): f is string => typeof f === 'string');
      if (wanted.length === 0) throw new Error('the image manifest lists no images');
    }
    return Promise.all(
      wanted.map(async (name) => {
        const res = await fetch(this.url(`images/${encodeURIComponent(name)}`), { cache: 'no-store' });
        if (!res.ok) throw new Error(`image "${name}" answered ${res.status}`);
        return { name, bytes: new Uint8Array(await res.arrayBuffer()) };
      }),
    );
  }

  /** Before any timing starts, like the images: reading a registered model's spec is set-up. */
  private async resolveModel(name: string, apiUrl: string | null): Promise<ModelSource> {
    if (isBundledModel(name)) return { spec: getModelSpec(name), registered: null };
    if (apiUrl === null) throw new Error(`model "${name}" is not bundled, and no API URL was given to fetch it from`);
    const view = await fetchModelView(apiUrl, name, { cache: 'no-store' });
    return { spec: runnableSpec(view), registered: { apiUrl, view } };
  }

  /** A phase of `durationMs` that started at `startMs` on the page's performance.now() timeline. */
  private record(result: BenchResult, iteration: number, phase: Phase, startMs: number, durationMs: number): void {
    const row: Measurement = { iteration, warmup: iteration > 0 && iteration <= result.params.warmup, phase, durationMs, energyMj: null, energyMethod: 'none' };
    result.measurements.push(row);
    result.phaseStarts.push(startMs);
  }

  private iterationDone(iteration: number): void {
    this.progress = { iteration, of: this.progress.of };
    this.env.onUpdate();
  }

  /**
   * model_load = initialise the tfjs backend (for wasm: fetch, compile and instantiate the
   * binary) + fetch model.json and the weights past the HTTP cache + parse + build the model on
   * the backend (dequantizing the weights). The first forward pass is not in it: that is
   * iteration 1, a warm-up one when warmup > 0. A registered model's weights are checked against
   * the registry's sha256 between fetch and build; that check is left out of model_load.
   */
  private async loadModel(result: BenchResult, source: ModelSource): Promise<TfModel> {
    const { spec, registered } = source;
    const t0 = performance.now();
    result.wasm = await initTfBackend(result.params.backend, this.url('tfjs-wasm/'));
    const t1 = performance.now();
    const handler = registered
      ? modelFilesHandler(registered.apiUrl, registered.view, { cache: 'no-store' })
      : tf.io.http(this.url(`models/${spec.name}/model.json`), { requestInit: { cache: 'no-store' } });
    const artifacts = await fetchModelArtifacts(handler, spec.name);
    const t2 = performance.now();
    if (registered) await checkWeights(registered.view, artifacts);
    const verified = performance.now();
    const model = await loadTfModel(spec, { load: () => Promise.resolve(artifacts) });
    const t3 = performance.now();
    const breakdown: ModelLoadBreakdown = { backendInitMs: t1 - t0, fetchMs: t2 - t1, buildMs: t3 - verified, verifyMs: registered ? verified - t2 : null };
    result.modelLoad = breakdown;
    result.backend = tf.getBackend();
    this.record(result, 0, 'model_load', t0, breakdown.backendInitMs + breakdown.fetchMs + breakdown.buildMs);
    return model;
  }

  private async runOnDevice(result: BenchResult, images: TestImage[], source: ModelSource): Promise<void> {
    const { spec } = source;
    const model = await this.loadModel(result, source);
    this.env.onUpdate();
    try {
      for (let i = 1; i <= this.progress.of; i++) {
        // Between iterations, not inside them: rendering and a driver's polls run here.
        await nextTask();
        const image = images[(i - 1) % images.length];
        const t0 = performance.now();
        const input = toInputTensor(await preprocessImage(image.bytes, spec.inputSize));
        const t1 = performance.now();
        let output: Float32Array;
        try {
          output = runInference(model, input);
        } finally {
          input.dispose();
        }
        const t2 = performance.now();
        const top = postprocess(output, spec, result.params.topk);
        const t3 = performance.now();
        this.record(result, i, 'preprocess', t0, t1 - t0);
        this.record(result, i, 'inference', t1, t2 - t1);
        this.record(result, i, 'postprocess', t2, t3 - t2);
        this.record(result, i, 'total', t0, t3 - t0);
        result.top1.push({ iteration: i, image: image.name, className: top[0].className, probability: top[0].probability });
        this.iterationDone(i);
      }
    } finally {
      model.dispose();
    }
  }

  private async runCloud(result: BenchResult, images: TestImage[], spec: RunnableSpec): Promise<void> {
    const base = result.params.inferenceUrl ?? '';
    const endpoint = new URL(`v1/infer?model=${encodeURIComponent(spec.name)}&topk=${result.params.topk}`, base.endsWith('/') ? base : `${base}/`).href;
    const split = result.cloudSplit ?? { resourceTiming: 0, fetch: 0 };
    for (let i = 1; i <= this.progress.of; i++) {
      await nextTask();
      const image = images[(i - 1) % images.length];
      // A full buffer would silently stop new entries; each request is looked up on its own.
      performance.clearResourceTimings();
      const start = performance.now();
      const body = await encodeForUpload(image.bytes, spec.inputSize, result.params.jpegQuality);
      const sent = performance.now();
      let response: Response;
      try {
        const signal = AbortSignal.timeout(CLOUD_REQUEST_TIMEOUT_MS);
        response = await fetch(endpoint, { method: 'POST', body, headers: { 'content-type': 'image/jpeg' }, cache: 'no-store', mode: 'cors', signal });
      } catch (err) {
        if (err instanceof DOMException && err.name === 'TimeoutError') throw new Error(`the inference server at ${base} did not answer within ${CLOUD_REQUEST_TIMEOUT_MS} ms`);
        throw new Error(`the inference server at ${base} could not be reached: ${err instanceof Error ? err.message : String(err)}`);
      }
      const headers = performance.now();
      const answer: unknown = await response.json().catch(() => null);
      const parsed = performance.now();
      if (!response.ok) {
        const message = typeof answer === 'object' && answer !== null && 'message' in answer ? String(answer.message) : response.statusText;
        throw new Error(`the inference server answered ${response.status}: ${message}`);
      }
      if (!isInferAnswer(answer)) throw new Error('the inference server sent an answer without topk and timings');
      const responseStart = await this.responseStart(endpoint);
      const s = splitCloud({ start, sent, headers, parsed, responseStart }, answer.timings.server);
      split[s.source === 'resource_timing' ? 'resourceTiming' : 'fetch']++;
      // The server's sub-phases happen on the server's clock; on this timeline they are placed
      // at the start of `server`, which holds them.
      const serverStart = sent + s.upload;
      this.record(result, i, 'preprocess', start, s.preprocess);
      this.record(result, i, 'upload', sent, s.upload);
      this.record(result, i, 'server', serverStart, s.server);
      this.record(result, i, 'server_preprocess', serverStart, answer.timings.server_preprocess);
      this.record(result, i, 'server_inference', serverStart, answer.timings.server_inference);
      this.record(result, i, 'server_postprocess', serverStart, answer.timings.server_postprocess);
      this.record(result, i, 'download', parsed - s.download, s.download);
      this.record(result, i, 'total', start, s.total);
      const top = answer.topk[0];
      result.top1.push({ iteration: i, image: image.name, className: top.className, probability: top.probability });
      this.iterationDone(i);
    }
  }

  /** The request's responseStart from Resource Timing; the entry may land a task after the body. */
  private async responseStart(url: string): Promise<number | null> {
    for (let attempt = 0; attempt < 5; attempt++) {
      const entries = performance.getEntriesByName(url, 'resource') as PerformanceResourceTiming[];
      const last = entries[entries.length - 1];
      if (last) return last.responseStart > 0 ? last.responseStart : null;
      await nextTask();
    }
    return null;
  }
}
