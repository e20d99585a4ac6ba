import { z } from 'zod';

export const DEFAULT_REDIS_URL = 'redis://127.0.0.1:6379';
export const DEFAULT_API_PORT = 3000;

/** Thrown when the environment does not satisfy a process's settings. */
export class ConfigError extends Error {}

/**
 * Validates a process's settings once, at start. The error names each missing or bad
 * variable, so a misconfigured process stops with a message an operator can act on.
 */
export function parseEnv<S extends z.ZodType>(schema: S, env: NodeJS.ProcessEnv = process.env): z.output<S> {
  const parsed = schema.safeParse(env);
  if (parsed.success) return parsed.data;
  const lines = parsed.error.issues.map((issue) => {
    // The variable is the path's head; a list's bad item is named by its place in the list.
    const [name, ...rest] = issue.path.map(String);
    const value = name === undefined ? undefined : env[name];
    const item = rest.length > 0 && /^\d+$/.test(rest[0] ?? '') ? `item ${Number(rest[0]) + 1}: ` : '';
    return `  ${name ?? '(environment)'}${value === undefined ? '' : `=${JSON.stringify(value)}`}: ${item}${issue.message}`;
  });
  throw new ConfigError(`Invalid configuration:\n${lines.join('\n')}`);
}

/** Environment helpers: numbers, URLs and booleans given as strings. */
export const envInt = (min: number, max: number) => z.coerce.number().int().min(min).max(max);
export const envUrl = (protocols: readonly string[]) =>
  z.string().refine((value) => {
    try {
      return protocols.includes(new URL(value).protocol.replace(/:$/, ''));
    } catch {
      return false;
    }
  }, `must be a URL (${protocols.join(', ')})`);
