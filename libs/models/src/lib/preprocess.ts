import { decodeImage, type DecodeOptions } from './image';
import type { RgbaImage } from './pixels';

/** An NHWC float32 batch of one, ready for `tf.tensor4d(data, shape)`. */
export interface InputTensorData {
  data: Float32Array;
  shape: [1, number, number, 3];
}

/** nsfwjs divides 0..255 channel values by 255: inputs lie in [0, 1], no mean subtraction. */
export const NORMALISATION_DIVISOR = 255;

/**
 * Bilinear resize of the RGB channels (alpha is dropped, as tf.browser.fromPixels does) to
 * outWidth x outHeight, with the arithmetic of tf.image.resizeBilinear(alignCorners = true,
 * halfPixelCenters = false), which nsfwjs uses: corner pixels map onto corner pixels.
 * Returns 0..255 float values, RGB interleaved.
 */
export function resizeBilinear(image: RgbaImage, outWidth: number, outHeight: number): Float32Array {
  const { width, height, data } = image;
  if (data.length !== width * height * 4) {
    throw new RangeError(`image data has ${data.length} bytes for ${width}x${height} RGBA`);
  }
  if (!Number.isInteger(outWidth) || !Number.isInteger(outHeight) || outWidth < 1 || outHeight < 1) {
    throw new RangeError(`bad output size ${outWidth}x${outHeight}`);
  }
  const rowRatio = outHeight > 1 ? (height - 1) / (outHeight - 1) : height / outHeight;
  const colRatio = outWidth > 1 ? (width - 1) / (outWidth - 1) : width / outWidth;

  const left = new Int32Array(outWidth);
  const right = new Int32Array(outWidth);
  const colFrac = new Float64Array(outWidth);
  for (let x = 0; x < outWidth; x++) {
    const src = colRatio * x;
    const floor = Math.floor(src);
    left[x] = floor * 4;
    right[x] = Math.min(width - 1, Math.ceil(src)) * 4;
    colFrac[x] = src - floor;
  }

  const out = new Float32Array(outWidth * outHeight * 3);
  let o = 0;
  for (let y = 0; y < outHeight; y++) {
    const src = rowRatio * y;
    const floor = Math.floor(src);
    const top = floor * width * 4;
    const bottom = Math.min(height - 1, Math.ceil(src)) * width * 4;
    const rowFrac = src - floor;
    for (let x = 0; x < outWidth; x++) {
      const fx = colFrac[x];
      for (let c = 0; c < 3; c++) {
        const tl = data[top + left[x] + c];
        const tr = data[top + right[x] + c];
        const bl = data[bottom + left[x] + c];
        const br = data[bottom + right[x] + c];
        const t = tl + (tr - tl) * fx;
        const b = bl + (br - bl) * fx;
        out[o++] = t + (b - t) * rowFrac;
      }
    }
  }
  return out;
}

/** Scales 0..255 values into [0, 1] in place, as nsfwjs does; returns the same array. */
export function normalise(values: Float32Array): Float32Array {
  for (let i = 0; i < values.length; i++) {
    values[i] = values[i] / NORMALISATION_DIVISOR;
  }
  return values;
}

/** Resize to the model's square input and normalise. */
export function toInputTensorData(image: RgbaImage, inputSize: number): InputTensorData {
  return { data: normalise(resizeBilinear(image, inputSize, inputSize)), shape: [1, inputSize, inputSize, 3] };
}

/** Decode, resize and normalise: everything of the preprocess phase but building the tensor. */
export async function preprocessImage(
  bytes: Uint8Array,
  inputSize: number,
  options: DecodeOptions = {},
): Promise<InputTensorData> {
  return toInputTensorData(await decodeImage(bytes, options), inputSize);
}
