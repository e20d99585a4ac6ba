import * as tf from '@tensorflow/tfjs';

export interface SavedModel {
  modelJson: string;
  weights: Uint8Array<ArrayBuffer>;
}

/** Side of the tiny image model's input. */
export const TINY_INPUT = 32;

/**
 * A real tfjs layers model saved as model.json + weights.bin, with fixed weights.
 * - `image`: [32, 32, 3] → global average pooling → Dense(3). Its logits are s_k · L + b_k of the
 *   image's brightness L (the three channel means summed), with slopes and biases set so the
 *   classes split at L = 1.0 and L = 1.65: `dark` (shapes.png), `mid` (gradient, checker, rings),
 *   `bright` (landscape), each far enough from a boundary that re-encoding for upload cannot
 *   change an image's top-1 class.
 * - `vector`: Dense(3) on a [4] input, which no device can feed.
 * `activation` softmax makes it output probabilities; linear, logits.
 */
export async function tinyModel(input: 'image' | 'vector', activation: 'softmax' | 'linear'): Promise<SavedModel> {
  await tf.setBackend('cpu');
  const model =
    input === 'image'
      ? tf.sequential({
          layers: [tf.layers.globalAveragePooling2d({ inputShape: [TINY_INPUT, TINY_INPUT, 3] }), tf.layers.dense({ units: 3, activation })],
        })
      : tf.sequential({ layers: [tf.layers.dense({ inputShape: [4], units: 3, activation })] });
  if (input === 'image') model.setWeights([tf.tensor2d([0, 10, 20, 0, 10, 20, 0, 10, 20], [3, 3]), tf.tensor1d([0, -10, -26.5])]);
  let saved: SavedModel | undefined;
  await model.save(
    tf.io.withSaveHandler((artifacts) => {
      const data = artifacts.weightData;
      const buffer = data === undefined ? new ArrayBuffer(0) : Array.isArray(data) ? tf.io.concatenateArrayBuffers(data) : data;
      saved = {
        modelJson: JSON.stringify({
          format: 'layers-model',
          modelTopology: artifacts.modelTopology,
          weightsManifest: [{ paths: ['weights.bin'], weights: artifacts.weightSpecs }],
        }),
        weights: new Uint8Array(buffer),
      };
      return Promise.resolve({ modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } });
    }),
  );
  model.dispose();
  if (!saved) throw new Error('the model was not saved');
  return saved;
}

export const TINY_CLASSES = ['dark', 'mid', 'bright'];

/** POST /api/models as a multipart form. */
export async function uploadModel<T>(
  stack: { apiUrl: string; token: string },
  body: { name?: string; classNames?: string; output?: string; files: { name: string; bytes: Uint8Array<ArrayBuffer> | string }[] },
): Promise<{ status: number; body: T }> {
  const form = new FormData();
  if (body.name !== undefined) form.append('name', body.name);
  if (body.classNames !== undefined) form.append('classNames', body.classNames);
  if (body.output !== undefined) form.append('output', body.output);
  for (const file of body.files) form.append('files', new Blob([typeof file.bytes === 'string' ? file.bytes : new Uint8Array(file.bytes)]), file.name);
  const response = await fetch(`${stack.apiUrl}/api/models`, { method: 'POST', body: form, headers: { authorization: `Bearer ${stack.token}` } });
  return { status: response.status, body: (await response.json()) as T };
}
