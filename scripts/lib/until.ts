/**
 * Polls `probe` every 100 ms until it gives a value, and gives it; throws after `timeoutMs`. With
 * `retryErrors`, a probe that throws (a server that is restarting) counts as no value yet.
 */
export async function until<T>(probe: () => Promise<T | undefined | false>, timeoutMs = 30_000, what = 'condition', options: { retryErrors?: boolean } = {}): Promise<T> {
  const started = Date.now();
  for (;;) {
    const value = await (options.retryErrors ? probe().catch(() => undefined) : probe());
    if (value) return value;
    if (Date.now() - started > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** The promise's value, or an error naming what did not happen within `ms`. */
export function within<T>(ms: number, what: string, promise: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what} took more than ${ms} ms`)), ms)));
  return Promise.race([promise, late]).finally(() => clearTimeout(timer));
}
