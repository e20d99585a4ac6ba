import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import { loadTfModel, warmUp, type LoadedModel } from '../lib/classify';
import type { RunnableSpec } from '../lib/specs';
import { tfjsWasmDistDir } from './paths';
import { getModelInfo, type ModelInfo, type RegistryOptions } from './registry';

let backendReady: Promise<void> | null = null;

/**
 * Selects tfjs's wasm backend, single-threaded (as in a page that is not cross-origin
 * isolated), with its .wasm files read from the installed package. Idempotent.
 */
export function initWasmBackend(): Promise<void> {
  backendReady ??= (async () => {
    const dist = tfjsWasmDistDir();
    tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', false);
    setWasmPaths({
      'tfjs-backend-wasm.wasm': path.join(dist, 'tfjs-backend-wasm.wasm'),
      'tfjs-backend-wasm-simd.wasm': path.join(dist, 'tfjs-backend-wasm-simd.wasm'),
      'tfjs-backend-wasm-threaded-simd.wasm': path.join(dist, 'tfjs-backend-wasm-threaded-simd.wasm'),
    });
    if (!(await tf.setBackend('wasm'))) throw new Error('the tfjs wasm backend failed to initialise');
    await tf.ready();
  })();
  backendReady.catch(() => {
    backendReady = null;
  });
  return backendReady;
}

/** A model built on the backend, with how long that took. */
export interface TimedLoad<S extends RunnableSpec = RunnableSpec> extends LoadedModel {
  spec: S;
  /** From `startedAt` (default: the call) to the model being built on the backend (ms). */
  loadMs: number;
  /** The first forward pass, on zeros (ms); null when skipped. */
  warmupMs: number | null;
}

export interface NodeLoadedModel extends TimedLoad<ModelInfo> {
  info: ModelInfo;
}

export interface LoadOptions extends RegistryOptions {
  /** Run one forward pass on zeros after loading; default true. */
  warmup?: boolean;
}

/**
 * Builds a model from its artifacts on the current backend (dequantizing the weights), then by
 * default runs one forward pass on zeros, timed apart.
 */
export async function buildModel<S extends RunnableSpec>(
  spec: S,
  artifacts: tf.io.ModelArtifacts,
  options: { warmup?: boolean; startedAt?: number } = {},
): Promise<TimedLoad<S>> {
  const t0 = options.startedAt ?? performance.now();
  const model = await loadTfModel(spec, { load: () => Promise.resolve(artifacts) });
  const loadMs = performance.now() - t0;
  const loaded = { spec, model };
  let warmupMs: number | null = null;
  if (options.warmup ?? true) {
    const t1 = performance.now();
    warmUp(loaded);
    warmupMs = performance.now() - t1;
  }
  return { ...loaded, loadMs, warmupMs };
}

/** Loads a bundled model from the converted cache (converting first if needed) on the wasm backend. */
export async function loadModel(name: string, options: LoadOptions = {}): Promise<NodeLoadedModel> {
  const info = await getModelInfo(name, options);
  await initWasmBackend();

  // loadMs = read model.json and weights.bin, parse, build the model on the backend.
  const t0 = performance.now();
  const [json, weights] = await Promise.all([fs.readFile(info.files.modelJson, 'utf8'), fs.readFile(info.files.weights)]);
  const parsed = JSON.parse(json) as tf.io.ModelJSON;
  const weightData =
    weights.byteOffset === 0 && weights.byteLength === weights.buffer.byteLength
      ? weights.buffer
      : weights.buffer.slice(weights.byteOffset, weights.byteOffset + weights.byteLength);
  const built = await buildModel(
    info,
    {
      modelTopology: parsed.modelTopology,
      weightSpecs: parsed.weightsManifest.flatMap((g) => g.weights),
      weightData,
      format: parsed.format,
      generatedBy: parsed.generatedBy,
      convertedBy: parsed.convertedBy,
      userDefinedMetadata: parsed.userDefinedMetadata,
    },
    { warmup: options.warmup ?? true, startedAt: t0 },
  );
  return { ...built, info };
}

/** Frees a model's weights on the backend. */
export function disposeModel(loaded: LoadedModel): void {
  loaded.model.dispose();
}
