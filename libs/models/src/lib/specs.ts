import type { BundledModel, ModelFormat, ModelOutputKind } from '@farm/contracts';

export type { ModelFormat, ModelOutputKind } from '@farm/contracts';

/** The five classes of the nsfwjs models, in output order. */
export const NSFW_CLASS_NAMES = ['Drawing', 'Hentai', 'Neutral', 'Porn', 'Sexy'] as const;
export type NsfwClassName = (typeof NSFW_CLASS_NAMES)[number];

/** What running a model needs, bundled or registered: how to load it, feed it and read it. */
export interface RunnableSpec {
  name: string;
  format: ModelFormat;
  /** Square input side in pixels. */
  inputSize: number;
  /** NHWC, batch of one. */
  inputShape: readonly [1, number, number, 3];
  classNames: readonly string[];
  output: ModelOutputKind;
}

/** The static facts about a bundled model: everything that does not depend on the cache. */
export interface ModelSpec extends RunnableSpec {
  name: BundledModel;
  /** The model's name inside nsfwjs. */
  sourceName: string;
  /** How many shard files nsfwjs ships for it. */
  sourceShards: number;
}

function spec(
  name: BundledModel,
  sourceName: string,
  format: ModelFormat,
  inputSize: number,
  sourceShards: number,
): ModelSpec {
  return {
    name,
    sourceName,
    format,
    inputSize,
    inputShape: [1, inputSize, inputSize, 3],
    classNames: NSFW_CLASS_NAMES,
    // All three graphs end in a softmax layer/op (checked by the converter).
    output: 'probabilities',
    sourceShards,
  };
}

export const MODEL_SPECS: Readonly<Record<BundledModel, ModelSpec>> = {
  mobilenet_v2: spec('mobilenet_v2', 'MobileNetV2', 'tfjs-layers', 224, 1),
  mobilenet_v2_mid: spec('mobilenet_v2_mid', 'MobileNetV2Mid', 'tfjs-graph', 224, 2),
  inception_v3: spec('inception_v3', 'InceptionV3', 'tfjs-layers', 299, 6),
};

export function isBundledModel(name: string): name is BundledModel {
  return Object.prototype.hasOwnProperty.call(MODEL_SPECS, name);
}

export function getModelSpec(name: string): ModelSpec {
  if (!isBundledModel(name)) {
    throw new UnknownModelError(name);
  }
  return MODEL_SPECS[name];
}

export class UnknownModelError extends Error {
  constructor(readonly modelName: string) {
    super(`unknown model "${modelName}"; bundled models are ${Object.keys(MODEL_SPECS).join(', ')}`);
    this.name = 'UnknownModelError';
  }
}
