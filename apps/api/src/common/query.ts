import { z } from 'zod';

/** A `true`/`false` query parameter, `fallback` when absent. */
export const queryFlag = (fallback: 'true' | 'false') =>
  z
    .enum(['true', 'false'])
    .default(fallback)
    .transform((value) => value === 'true');
