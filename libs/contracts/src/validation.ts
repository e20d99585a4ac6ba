import type { z } from 'zod';
import type { ApiError } from './api';

export type ErrorDetail = ApiError['details'][number];

/**
 * Turns zod issues into `{ path, message }` pairs; paths read like `devices.tags[0]`. The API
 * answers its 400s with them, and the CLI names a bad job file's fields the same way.
 */
export function zodDetails(error: z.ZodError): ErrorDetail[] {
  return error.issues.flatMap((issue) =>
    // An unknown field is named by its own path, so a client sees which field to drop.
    issue.code === 'unrecognized_keys'
      ? issue.keys.map((key) => ({ path: formatPath([...issue.path, key]), message: 'is not a known field' }))
      : [{ path: formatPath(issue.path) || '(body)', message: issue.message }],
  );
}

function formatPath(path: readonly PropertyKey[]): string {
  return path.reduce<string>((out, key) => {
    if (typeof key === 'number') return `${out}[${key}]`;
    return out ? `${out}.${String(key)}` : String(key);
  }, '');
}
