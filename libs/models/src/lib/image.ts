import { decode as decodeJpegJs } from 'jpeg-js';
import { ImageDecodeError, type RgbaImage } from './pixels';
import { decodePng } from './png';

export type ImageFormat = 'jpeg' | 'png';

export interface DecodeOptions {
  /** Refuse images with more pixels than this (decompression bombs). Default 40 million. */
  maxPixels?: number;
}

export const DEFAULT_MAX_PIXELS = 40_000_000;

/** Recognises the format from the first bytes, whatever the declared content type says. */
export function sniffImageFormat(bytes: Uint8Array): ImageFormat | null {
  if (bytes.length >= 3 && bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff) {
    return 'jpeg';
  }
  const png = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
  if (bytes.length >= png.length && png.every((b, i) => bytes[i] === b)) {
    return 'png';
  }
  return null;
}

/**
 * Decodes a JPEG (jpeg-js) or PNG (our decoder on the platform's zlib inflate) to RGBA.
 * The same code runs in Node and in the page, so both sides see the same pixels.
 */
export async function decodeImage(bytes: Uint8Array, options: DecodeOptions = {}): Promise<RgbaImage> {
  const maxPixels = options.maxPixels ?? DEFAULT_MAX_PIXELS;
  const format = sniffImageFormat(bytes);
  if (format === 'png') {
    return decodePng(bytes, { maxPixels });
  }
  if (format === 'jpeg') {
    return decodeJpeg(bytes, maxPixels);
  }
  throw new ImageDecodeError('not a JPEG or PNG image');
}

function decodeJpeg(bytes: Uint8Array, maxPixels: number): RgbaImage {
  let decoded: { width: number; height: number; data: Uint8Array };
  try {
    decoded = decodeJpegJs(bytes, {
      useTArray: true,
      formatAsRGBA: true,
      maxResolutionInMP: maxPixels / 1e6,
      maxMemoryUsageInMB: Math.ceil((maxPixels * 4 * 2) / (1024 * 1024)),
    });
  } catch (err) {
    throw new ImageDecodeError(`invalid JPEG: ${err instanceof Error ? err.message : String(err)}`);
  }
  if (decoded.width < 1 || decoded.height < 1) {
    throw new ImageDecodeError('invalid JPEG: no pixels');
  }
  return { width: decoded.width, height: decoded.height, data: decoded.data };
}
