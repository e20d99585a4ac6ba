/** A seed: a number or a string. A number seeds as its decimal string, so 42 and '42' agree. */
export type Seed = number | string;

/** A generator of uniform numbers in [0, 1), each a multiple of 2⁻³². */
export type Random = () => number;

/**
 * FNV-1a, 32 bits, over the UTF-16 code units of the seed's string form: a documented, stable
 * map from any seed to the generator's 32-bit state (Fowler, Noll & Vo; the 32-bit offset basis
 * 2166136261 and prime 16777619).
 */
function hashSeed(seed: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < seed.length; i++) {
    h ^= seed.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/**
 * Mulberry32 (Tommy Ettinger, public domain): a 32-bit Weyl sequence (state += 0x6D2B79F5)
 * passed through a multiply-xorshift mix. Period 2³², well beyond the n × resamples draws of a
 * bootstrap (2000 resamples of 10,000 values use 0.5% of it). Not for cryptography.
 *
 * Seeding is deterministic: the same seed gives the same stream on every platform, which is
 * what makes bootstrap intervals reproducible. Throws on a seed that is neither a finite number
 * nor a string.
 */
export function seededRandom(seed: Seed): Random {
  if (!(typeof seed === 'string' || (typeof seed === 'number' && Number.isFinite(seed)))) {
    throw new RangeError(`seed: must be a finite number or a string, got ${String(seed)}`);
  }
  let state = hashSeed(String(seed));
  return () => {
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
