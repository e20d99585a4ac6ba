import { Client } from 'pg';

const UNREACHABLE_CODES = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'ETIMEDOUT', 'EHOSTUNREACH', 'ECONNRESET']);

/** A failure the db:* commands report as one readable line, without a stack trace. */
export class DbCommandError extends Error {
  override readonly name = 'DbCommandError';
}

/** The URL without its password, fit for messages and logs. */
export function redactUrl(databaseUrl: string): string {
  try {
    const url = new URL(databaseUrl);
    if (url.password) url.password = '***';
    return url.toString();
  } catch {
    return '<unparseable DATABASE_URL>';
  }
}

export function databaseName(databaseUrl: string): string {
  const name = decodeURIComponent(new URL(databaseUrl).pathname.replace(/^\//, ''));
  if (!name) throw new DbCommandError(`DATABASE_URL ${redactUrl(databaseUrl)} names no database`);
  return name;
}

/** The same server and credentials, another database (the maintenance one by default). */
export function withDatabase(databaseUrl: string, database = 'postgres'): string {
  const url = new URL(databaseUrl);
  url.pathname = `/${encodeURIComponent(database)}`;
  return url.toString();
}

export function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

function errorCode(error: unknown): string | undefined {
  if (typeof error === 'object' && error !== null && 'code' in error && typeof error.code === 'string') {
    return error.code;
  }
  return undefined;
}

function describe(error: unknown): string {
  if (error instanceof AggregateError) return error.errors.map(describe).join('; ');
  return error instanceof Error ? error.message : String(error);
}

/** Connects, turning "server not there" into a message that names DATABASE_URL. */
export async function connect(databaseUrl: string): Promise<Client> {
  const client = new Client({ connectionString: databaseUrl, connectionTimeoutMillis: 10_000 });
  try {
    await client.connect();
  } catch (error) {
    const code = errorCode(error);
    if ((code !== undefined && UNREACHABLE_CODES.has(code)) || describe(error).includes('timeout')) {
      throw new DbCommandError(
        `Cannot reach PostgreSQL at DATABASE_URL=${redactUrl(databaseUrl)} (${code ?? 'timeout'}: ${describe(error)}). ` +
          'Is the server running, and is DATABASE_URL right?',
        { cause: error },
      );
    }
    throw error;
  }
  return client;
}

/** Creates the database when it does not exist yet; safe to race with another process doing the same. */
export async function ensureDatabase(databaseUrl: string): Promise<boolean> {
  const name = databaseName(databaseUrl);
  try {
    const probe = await connect(databaseUrl);
    await probe.end();
    return false;
  } catch (error) {
    // 3D000: invalid_catalog_name, i.e. the database does not exist.
    if (errorCode(error) !== '3D000') throw error;
  }
  const admin = await connect(withDatabase(databaseUrl));
  try {
    await admin.query(`CREATE DATABASE ${quoteIdent(name)}`);
    return true;
  } catch (error) {
    // 42P04 duplicate_database, 23505 unique_violation: someone else created it first.
    const code = errorCode(error);
    if (code === '42P04' || code === '23505') return false;
    throw error;
  } finally {
    await admin.end();
  }
}

/** Drops the database, first closing any connection still open to it. */
export async function dropDatabase(databaseUrl: string): Promise<void> {
  const admin = await connect(withDatabase(databaseUrl));
  try {
    await admin.query(`DROP DATABASE IF EXISTS ${quoteIdent(databaseName(databaseUrl))} WITH (FORCE)`);
  } finally {
    await admin.end();
  }
}

/** A fresh, empty database. */
export async function recreateDatabase(databaseUrl: string): Promise<void> {
  await dropDatabase(databaseUrl);
  await ensureDatabase(databaseUrl);
}
