import * as path from 'node:path';
import type { BundledModel } from '@farm/contracts';
import { getModelSpec, MODEL_SPECS, type ModelSpec } from '../lib/specs';
import { ensureConverted, type ConvertOptions } from './convert';

/** A bundled model as the registry describes it: its spec plus facts about its converted files. */
export interface ModelInfo extends ModelSpec {
  /** Where the weights come from, e.g. `nsfwjs@4.4.0`. */
  version: string;
  /** model.json + weights.bin. */
  sizeBytes: number;
  weightsBytes: number;
  weightsSha256: string;
  modelJsonSha256: string;
  /** Storage type of the weights as shipped, e.g. `uint8` (dequantized to float32 at load). */
  quantization: string;
  files: { dir: string; modelJson: string; weights: string };
}

export type RegistryOptions = Pick<ConvertOptions, 'cacheDir'>;

export const BUNDLED_MODEL_NAMES = Object.keys(MODEL_SPECS) as BundledModel[];

/** Registry entry of one bundled model; converts it first when the cache is missing or stale. */
export async function getModelInfo(name: string, options: RegistryOptions = {}): Promise<ModelInfo> {
  const spec = getModelSpec(name);
  const { dir, meta } = await ensureConverted(name, options);
  return {
    ...spec,
    version: `${meta.source.package}@${meta.source.version}`,
    sizeBytes: meta.modelJson.bytes + meta.weights.bytes,
    weightsBytes: meta.weights.bytes,
    weightsSha256: meta.weights.sha256,
    modelJsonSha256: meta.modelJson.sha256,
    quantization: meta.quantization,
    files: { dir, modelJson: path.join(dir, meta.modelJson.file), weights: path.join(dir, meta.weights.file) },
  };
}

/** Registry entries of the given models (default: all bundled ones), in that order. */
export async function listModels(
  names: readonly string[] = BUNDLED_MODEL_NAMES,
  options: RegistryOptions = {},
): Promise<ModelInfo[]> {
  const infos: ModelInfo[] = [];
  // One at a time: a cold conversion holds a whole model's shards in memory.
  for (const name of names) infos.push(await getModelInfo(name, options));
  return infos;
}
