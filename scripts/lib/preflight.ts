import { accessSync, constants } from 'node:fs';
import { Client } from 'pg';
import { Redis } from 'ioredis';

/**
 * Checks that what the farm needs is reachable, and says exactly what is missing and how to
 * get it when it is not.
 */
export async function preflight(needs: { databaseUrl: string; redisUrl: string; browser?: { chromium: string; chromedriver: string } }): Promise<string[]> {
  const problems: string[] = [];
  if (needs.browser) {
    const absent = [needs.browser.chromium, needs.browser.chromedriver].filter((file) => !isExecutable(file));
    if (absent.length > 0) {
      problems.push(
        `The browser device needs Chromium and its driver; not found: ${absent.join(', ')}.\n` +
          '    Install them: apt-get install -y chromium chromium-driver (or set CHROMIUM_PATH and CHROMEDRIVER_PATH).',
      );
    }
  }
  const pg = new Client({ connectionString: adminUrl(needs.databaseUrl), connectionTimeoutMillis: 3_000 });
  try {
    await pg.connect();
    await pg.query('SELECT 1');
  } catch (error) {
    problems.push(
      `PostgreSQL is not reachable at ${redact(needs.databaseUrl)} (${message(error)}).\n` +
        '    Start a local PostgreSQL 15+, or `docker compose up -d postgres`, or set DATABASE_URL.',
    );
  } finally {
    await pg.end().catch(() => undefined);
  }
  const redis = new Redis(needs.redisUrl, { lazyConnect: true, maxRetriesPerRequest: 0, connectTimeout: 3_000, retryStrategy: () => null });
  try {
    await redis.connect();
    await redis.ping();
  } catch (error) {
    problems.push(
      `Redis is not reachable at ${redact(needs.redisUrl)} (${message(error)}).\n` +
        '    Start a local Redis 7 (redis-server), or `docker compose up -d redis`, or set REDIS_URL.',
    );
  } finally {
    redis.disconnect();
  }
  return problems;
}

/** The server's maintenance database: the farm's own may not exist yet. */
function adminUrl(databaseUrl: string): string {
  const url = new URL(databaseUrl);
  url.pathname = '/postgres';
  return url.toString();
}

function redact(url: string): string {
  const parsed = new URL(url);
  if (parsed.password) parsed.password = '***';
  return parsed.toString();
}

function message(error: unknown): string {
  if (error instanceof AggregateError) return error.errors.map(message).join('; ');
  return error instanceof Error ? error.message || error.name : String(error);
}

function isExecutable(file: string): boolean {
  try {
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}
