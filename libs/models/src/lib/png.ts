import { ImageDecodeError, type RgbaImage } from './pixels';

// A PNG decoder for the benchmark: all colour types and bit depths, Adam7 interlacing, tRNS
// for palette images. Ancillary chunks (gamma, colour profiles) are ignored, as canvases and
// nsfwjs's tf.browser.fromPixels effectively do for these inputs. Inflate uses the platform's
// DecompressionStream (Node >= 18 and every current browser), so no zlib port is bundled.

const SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
const SIGNATURE_LENGTH = SIGNATURE.length;

const CHANNELS: Record<number, number> = { 0: 1, 2: 3, 3: 1, 4: 2, 6: 4 };
const ALLOWED_DEPTHS: Record<number, readonly number[]> = {
  0: [1, 2, 4, 8, 16],
  2: [8, 16],
  3: [1, 2, 4, 8],
  4: [8, 16],
  6: [8, 16],
};

/** Adam7 passes: x start, y start, x step, y step. */
const ADAM7: readonly (readonly [number, number, number, number])[] = [
  [0, 0, 8, 8],
  [4, 0, 8, 8],
  [0, 4, 4, 8],
  [2, 0, 4, 4],
  [0, 2, 2, 4],
  [1, 0, 2, 2],
  [0, 1, 1, 2],
];

interface Header {
  width: number;
  height: number;
  depth: number;
  colorType: number;
  interlaced: boolean;
}

function fail(message: string): never {
  throw new ImageDecodeError(`invalid PNG: ${message}`);
}

function readU32(b: Uint8Array, at: number): number {
  return ((b[at] << 24) | (b[at + 1] << 16) | (b[at + 2] << 8) | b[at + 3]) >>> 0;
}

export async function decodePng(bytes: Uint8Array, options: { maxPixels: number }): Promise<RgbaImage> {
  if (bytes.length < SIGNATURE_LENGTH || SIGNATURE.some((b, i) => bytes[i] !== b)) fail('no PNG signature');
  let header: Header | null = null;
  let palette: Uint8Array | null = null;
  let paletteAlpha: Uint8Array | null = null;
  const idat: Uint8Array[] = [];
  let idatLength = 0;
  let at = SIGNATURE_LENGTH;
  let ended = false;
  while (!ended) {
    if (at + 12 > bytes.length) fail('truncated chunk');
    const length = readU32(bytes, at);
    const type = String.fromCharCode(bytes[at + 4], bytes[at + 5], bytes[at + 6], bytes[at + 7]);
    const start = at + 8;
    const end = start + length;
    if (end + 4 > bytes.length) fail(`truncated ${type} chunk`);
    const data = bytes.subarray(start, end);
    switch (type) {
      case 'IHDR':
        header = parseHeader(data, options.maxPixels);
        break;
      case 'PLTE':
        if (length % 3 !== 0 || length === 0) fail('bad palette length');
        palette = data;
        break;
      case 'tRNS':
        paletteAlpha = data;
        break;
      case 'IDAT':
        idat.push(data);
        idatLength += length;
        break;
      case 'IEND':
        ended = true;
        break;
      default:
        // Critical chunks we do not know make the image undecodable; ancillary ones are skipped.
        if ((bytes[at + 4] & 0x20) === 0) fail(`unknown critical chunk ${type}`);
    }
    if (at === SIGNATURE_LENGTH && type !== 'IHDR') fail('IHDR is not the first chunk');
    at = end + 4;
  }
  if (!header) fail('no IHDR chunk');
  if (idatLength === 0) fail('no image data');
  if (header.colorType === 3 && !palette) fail('palette image without PLTE');

  const compressed = new Uint8Array(idatLength);
  let offset = 0;
  for (const chunk of idat) {
    compressed.set(chunk, offset);
    offset += chunk.length;
  }
  const expected = rawSize(header);
  const raw = await inflate(compressed, expected);
  if (raw.length < expected) fail(`image data is ${raw.length} bytes, expected ${expected}`);

  return toRgba(header, raw, palette, header.colorType === 3 ? paletteAlpha : null);
}

function parseHeader(data: Uint8Array, maxPixels: number): Header {
  if (data.length !== 13) fail('bad IHDR length');
  const width = readU32(data, 0);
  const height = readU32(data, 4);
  const depth = data[8];
  const colorType = data[9];
  if (width < 1 || height < 1) fail('zero width or height');
  if (width * height > maxPixels) {
    throw new ImageDecodeError(`image has ${width}x${height} pixels, more than the limit of ${maxPixels}`);
  }
  if (!(colorType in CHANNELS)) fail(`unknown colour type ${colorType}`);
  if (!ALLOWED_DEPTHS[colorType].includes(depth)) fail(`bit depth ${depth} not allowed for colour type ${colorType}`);
  if (data[10] !== 0 || data[11] !== 0) fail('unknown compression or filter method');
  if (data[12] > 1) fail('unknown interlace method');
  return { width, height, depth, colorType, interlaced: data[12] === 1 };
}

function passSizes(h: Header): { width: number; height: number; x0: number; y0: number; dx: number; dy: number }[] {
  if (!h.interlaced) return [{ width: h.width, height: h.height, x0: 0, y0: 0, dx: 1, dy: 1 }];
  return ADAM7.map(([x0, y0, dx, dy]) => ({
    width: Math.ceil((h.width - x0) / dx),
    height: Math.ceil((h.height - y0) / dy),
    x0,
    y0,
    dx,
    dy,
  })).filter((p) => p.width > 0 && p.height > 0);
}

function stride(width: number, h: Header): number {
  return Math.ceil((width * CHANNELS[h.colorType] * h.depth) / 8);
}

function rawSize(h: Header): number {
  return passSizes(h).reduce((sum, p) => sum + p.height * (1 + stride(p.width, h)), 0);
}

async function inflate(data: Uint8Array<ArrayBuffer>, expected: number): Promise<Uint8Array> {
  const stream = new DecompressionStream('deflate');
  const writer = stream.writable.getWriter();
  const written = writer.write(data).then(() => writer.close());
  // A rejection here is reported by the reader below; do not leave it unhandled.
  written.catch(() => undefined);
  const reader = stream.readable.getReader();
  const out = new Uint8Array(expected);
  let length = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      // Trailing bytes beyond the image are ignored, but reading stops at once (bombs).
      const room = expected - length;
      out.set(value.length > room ? value.subarray(0, room) : value, length);
      length += Math.min(room, value.length);
      if (length >= expected) {
        await reader.cancel();
        break;
      }
    }
  } catch (err) {
    fail(`corrupt image data (${err instanceof Error ? err.message : String(err)})`);
  }
  return out.subarray(0, length);
}

/** Reverses the per-scanline filters in place; returns the unfiltered rows without filter bytes. */
function unfilter(raw: Uint8Array, at: number, rows: number, rowBytes: number, bpp: number): Uint8Array {
  const out = new Uint8Array(rows * rowBytes);
  for (let y = 0; y < rows; y++) {
    const filter = raw[at + y * (rowBytes + 1)];
    const src = at + y * (rowBytes + 1) + 1;
    const row = y * rowBytes;
    const prev = row - rowBytes;
    for (let x = 0; x < rowBytes; x++) {
      const a = x >= bpp ? out[row + x - bpp] : 0;
      const b = y > 0 ? out[prev + x] : 0;
      const c = x >= bpp && y > 0 ? out[prev + x - bpp] : 0;
      let v = raw[src + x];
      switch (filter) {
        case 0:
          break;
        case 1:
          v += a;
          break;
        case 2:
          v += b;
          break;
        case 3:
          v += (a + b) >> 1;
          break;
        case 4: {
          const p = a + b - c;
          const pa = Math.abs(p - a);
          const pb = Math.abs(p - b);
          const pc = Math.abs(p - c);
          v += pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
          break;
        }
        default:
          fail(`unknown filter type ${filter}`);
      }
      out[row + x] = v & 0xff;
    }
  }
  return out;
}

function toRgba(h: Header, raw: Uint8Array, palette: Uint8Array | null, paletteAlpha: Uint8Array | null): RgbaImage {
  const channels = CHANNELS[h.colorType];
  const bpp = Math.max(1, (channels * h.depth) / 8);
  const rgba = new Uint8Array(h.width * h.height * 4);
  const maxSample = (1 << h.depth) - 1;
  let at = 0;
  for (const pass of passSizes(h)) {
    const rowBytes = stride(pass.width, h);
    const rows = unfilter(raw, at, pass.height, rowBytes, bpp);
    at += pass.height * (rowBytes + 1);
    const sample = (row: number, index: number): number => {
      const base = row * rowBytes;
      if (h.depth === 8) return rows[base + index];
      if (h.depth === 16) return (rows[base + index * 2] << 8) | rows[base + index * 2 + 1];
      const bit = index * h.depth;
      return (rows[base + (bit >> 3)] >> (8 - h.depth - (bit & 7))) & maxSample;
    };
    // Samples other than 8-bit are rescaled to 0..255 the way pngjs does.
    const scale = (v: number): number => (h.depth === 8 ? v : Math.round((v * 255) / maxSample));
    for (let py = 0; py < pass.height; py++) {
      const y = pass.y0 + py * pass.dy;
      for (let px = 0; px < pass.width; px++) {
        const x = pass.x0 + px * pass.dx;
        const o = (y * h.width + x) * 4;
        const s = px * channels;
        switch (h.colorType) {
          case 0: {
            const g = scale(sample(py, s));
            rgba[o] = rgba[o + 1] = rgba[o + 2] = g;
            rgba[o + 3] = 255;
            break;
          }
          case 2:
            rgba[o] = scale(sample(py, s));
            rgba[o + 1] = scale(sample(py, s + 1));
            rgba[o + 2] = scale(sample(py, s + 2));
            rgba[o + 3] = 255;
            break;
          case 3: {
            const i = sample(py, s);
            const pal = palette as Uint8Array;
            if (i * 3 + 2 >= pal.length) fail(`palette index ${i} out of range`);
            rgba[o] = pal[i * 3];
            rgba[o + 1] = pal[i * 3 + 1];
            rgba[o + 2] = pal[i * 3 + 2];
            rgba[o + 3] = paletteAlpha && i < paletteAlpha.length ? paletteAlpha[i] : 255;
            break;
          }
          case 4: {
            const g = scale(sample(py, s));
            rgba[o] = rgba[o + 1] = rgba[o + 2] = g;
            rgba[o + 3] = scale(sample(py, s + 1));
            break;
          }
          case 6:
            rgba[o] = scale(sample(py, s));
            rgba[o + 1] = scale(sample(py, s + 1));
            rgba[o + 2] = scale(sample(py, s + 2));
            rgba[o + 3] = scale(sample(py, s + 3));
            break;
          default:
            fail(`unknown colour type ${h.colorType}`);
        }
      }
    }
  }
  return { width: h.width, height: h.height, data: rgba };
}
