import { encode } from 'jpeg-js';
import { decodeImage, resizeBilinear } from '@farm/models/browser';

/**
 * The cloud scenario's client-side preprocessing: decode the image (the shared decoder), resize
 * it to the model's input size (the shared bilinear resize) and encode it as a baseline JPEG
 * with jpeg-js, so the upload is as small as the model allows and every phone sends the same
 * bytes for the same image.
 */
export async function encodeForUpload(bytes: Uint8Array, inputSize: number, quality: number): Promise<Uint8Array<ArrayBuffer>> {
  const image = await decodeImage(bytes);
  const rgb = resizeBilinear(image, inputSize, inputSize);
  const rgba = new Uint8Array(inputSize * inputSize * 4);
  for (let i = 0, o = 0; i < rgb.length; i += 3, o += 4) {
    // Bilinear values lie within the source's 0..255 range; rounding keeps them there.
    rgba[o] = Math.round(rgb[i]);
    rgba[o + 1] = Math.round(rgb[i + 1]);
    rgba[o + 2] = Math.round(rgb[i + 2]);
    rgba[o + 3] = 255;
  }
  const encoded: Uint8Array = encode({ data: rgba, width: inputSize, height: inputSize }, quality).data;
  return new Uint8Array(encoded);
}
