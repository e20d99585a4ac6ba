// Models registered through the farm's API, as the page and the inference server fetch them:
// the spec from GET /api/models/:name, the files from its files endpoint, the weights checked
// against the registry's sha256. Browser-safe: fetch and WebCrypto only.
import * as tf from '@tensorflow/tfjs';
import { fetchFailure, RegisteredModelError, requireImageInput, type ModelView } from '@farm/contracts';
import type { RunnableSpec } from './specs';

/** What a device needs to run the model; `invalid` when no device can (the input is not an image). */
export function runnableSpec(view: ModelView): RunnableSpec {
  const size = requireImageInput(view);
  if (view.classNames.length !== view.outputSize) {
    throw new RegisteredModelError('invalid', `model "${view.name}" names ${view.classNames.length} classes for ${view.outputSize} outputs`);
  }
  return { name: view.name, format: view.format, inputSize: size, inputShape: [1, size, size, 3], classNames: view.classNames, output: view.output };
}

/** A tfjs loader for the model's files on the API: model.json, then the weights it names beside it. */
export function modelFilesHandler(apiUrl: string, view: ModelView, requestInit: RequestInit = {}): tf.io.IOHandler {
  const modelJson = view.files.find((f) => f.path === 'model.json');
  if (!modelJson) throw new RegisteredModelError('invalid', `the API lists no model.json for model "${view.name}"`);
  return tf.io.http(new URL(modelJson.url, apiUrl).href, { requestInit });
}

/** Fetches the model's files (tfjs's own loader) and maps a failure to a RegisteredModelError. */
export async function fetchModelArtifacts(handler: tf.io.IOHandler, name: string): Promise<tf.io.ModelArtifacts> {
  if (!handler.load) throw new Error('the tfjs http handler cannot load');
  try {
    return await handler.load();
  } catch (error) {
    throw fetchFailure(error, `the files of model "${name}" could not be fetched`);
  }
}

export async function sha256Hex(bytes: ArrayBuffer): Promise<string> {
  const digest = await crypto.subtle.digest('SHA-256', bytes);
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, '0')).join('');
}

/** The weight bytes tfjs loaded, in manifest order: what the registry's sha256 covers. */
export function weightBytes(artifacts: tf.io.ModelArtifacts): ArrayBuffer {
  const data = artifacts.weightData;
  if (data === undefined) return new ArrayBuffer(0);
  return Array.isArray(data) ? tf.io.concatenateArrayBuffers(data) : data;
}

/** Refuses weights whose sha256 is not the registry's: files changed after registration, or a bad transfer. */
export async function checkWeights(view: ModelView, artifacts: tf.io.ModelArtifacts): Promise<void> {
  const actual = await sha256Hex(weightBytes(artifacts));
  if (actual !== view.sha256) {
    throw new RegisteredModelError('checksum', `the weights of model "${view.name}" have sha256 ${actual}, the registry says ${view.sha256}`);
  }
}
