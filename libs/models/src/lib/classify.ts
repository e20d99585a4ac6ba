import * as tf from '@tensorflow/tfjs';
import type { DecodeOptions } from './image';
import { postprocess, type ClassProbability } from './postprocess';
import { preprocessImage, type InputTensorData } from './preprocess';
import type { RunnableSpec } from './specs';

export type TfModel = tf.LayersModel | tf.GraphModel;

/** A model ready to run, with the facts postprocessing needs. */
export interface LoadedModel {
  spec: RunnableSpec;
  model: TfModel;
}

/** Per-phase wall times in ms, from performance.now(). */
export interface ClassifyTimings {
  /** Decode, resize, normalise and build the input tensor. */
  preprocess: number;
  /** Forward pass, up to the output values being readable on the CPU (dataSync). */
  inference: number;
  /** Probability computation: softmax where the model returns logits, then top-k. */
  postprocess: number;
}

export interface ClassifyResult {
  model: string;
  topk: ClassProbability[];
  timings: ClassifyTimings;
}

export interface ClassifyOptions {
  /** How many classes to return, 1 to the model's class count; default all. */
  topk?: number;
  decode?: DecodeOptions;
}

/** Loads a model with the right tfjs loader for its format (URL or IOHandler). */
export async function loadTfModel(spec: Pick<RunnableSpec, 'format'>, source: string | tf.io.IOHandler): Promise<TfModel> {
  return spec.format === 'tfjs-graph' ? tf.loadGraphModel(source) : tf.loadLayersModel(source);
}

/** The forward pass on a prepared input; returns the model's output for the single image. */
export function runInference(model: TfModel, input: tf.Tensor4D): Float32Array {
  const output = model.predict(input);
  if (!(output instanceof tf.Tensor)) {
    const tensors = Array.isArray(output) ? output : Object.values(output);
    tensors.forEach((t) => t.dispose());
    throw new Error('model returned more than one output');
  }
  try {
    // dataSync ends the forward pass: with the wasm backend every op has run by now.
    const values = output.dataSync();
    if (!(values instanceof Float32Array)) {
      throw new Error(`model output is ${output.dtype}, expected float32`);
    }
    return values;
  } finally {
    output.dispose();
  }
}

export function toInputTensor(input: InputTensorData): tf.Tensor4D {
  return tf.tensor4d(input.data, input.shape, 'float32');
}

/** One forward pass on zeros, so the first timed inference does not pay for allocation. */
export function warmUp(loaded: LoadedModel): void {
  const zeros = tf.zeros<tf.Rank.R4>([...loaded.spec.inputShape]);
  try {
    runInference(loaded.model, zeros);
  } finally {
    zeros.dispose();
  }
}

/** Classifies one encoded image (JPEG or PNG) and times each phase. */
export async function classify(
  loaded: LoadedModel,
  imageBytes: Uint8Array,
  options: ClassifyOptions = {},
): Promise<ClassifyResult> {
  const { spec } = loaded;
  const k = options.topk ?? spec.classNames.length;
  if (!Number.isInteger(k) || k < 1 || k > spec.classNames.length) {
    throw new RangeError(`topk must be an integer from 1 to ${spec.classNames.length}, got ${k}`);
  }

  const t0 = performance.now();
  const input = toInputTensor(await preprocessImage(imageBytes, spec.inputSize, options.decode));
  const t1 = performance.now();
  let output: Float32Array;
  try {
    output = runInference(loaded.model, input);
  } finally {
    input.dispose();
  }
  const t2 = performance.now();
  const topk = postprocess(output, spec, k);
  const t3 = performance.now();

  return { model: spec.name, topk, timings: { preprocess: t1 - t0, inference: t2 - t1, postprocess: t3 - t2 } };
}
