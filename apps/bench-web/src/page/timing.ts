// Pure timing arithmetic of the page, kept apart from the DOM so it can be unit-tested.

/** Readings of performance.now() (ms, one timeline) taken during one cloud iteration. */
export interface CloudStamps {
  /** Before decoding the image. */
  start: number;
  /** Just before fetch(): the upload body is ready. */
  sent: number;
  /** fetch() resolved: response headers are in. */
  headers: number;
  /** The response body is read and parsed. */
  parsed: number;
  /** Resource Timing's responseStart of the request, when the browser gave one. */
  responseStart: number | null;
}

export interface CloudSplit {
  preprocess: number;
  upload: number;
  server: number;
  download: number;
  total: number;
  source: 'resource_timing' | 'fetch';
}

/**
 * Splits a cloud iteration. The response's first byte (Resource Timing's responseStart, or the
 * moment fetch() resolved) divides the request: before it lie upload and server, after it the
 * download. `upload` is what remains before the first byte once the server's reported time is
 * taken out, so it also holds connection set-up and the first byte's trip back; it is clamped
 * at 0, which only timer coarsening can call for.
 */
export function splitCloud(stamps: CloudStamps, serverMs: number): CloudSplit {
  const { start, sent, headers, parsed, responseStart } = stamps;
  const usable = responseStart !== null && responseStart > 0 && responseStart >= sent && responseStart <= parsed;
  const firstByte = usable ? responseStart : headers;
  return {
    preprocess: sent - start,
    upload: Math.max(0, firstByte - sent - serverMs),
    server: serverMs,
    download: parsed - firstByte,
    total: parsed - start,
    source: usable ? 'resource_timing' : 'fetch',
  };
}

/** The smallest step performance.now() takes here: 5 µs when cross-origin isolated, 100 µs otherwise. */
export function timerResolution(now: () => number = () => performance.now(), samples = 20): number {
  let best = Infinity;
  for (let i = 0; i < samples; i++) {
    const a = now();
    let b = now();
    // Bounded: a clock that never moves would otherwise spin forever.
    for (let spins = 0; b === a && spins < 1_000_000; spins++) b = now();
    if (b > a) best = Math.min(best, b - a);
  }
  return Number.isFinite(best) ? best : 0;
}

export function median(values: readonly number[]): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}
