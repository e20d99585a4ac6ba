// Applies pending migrations from prisma/migrations without Prisma's native schema engine, which
// cannot be had offline. It keeps Prisma's bookkeeping (the _prisma_migrations table, its checksums
// and its advisory lock), so `prisma migrate deploy` can take over wherever the engine is available.
import { createHash, randomUUID } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { Client } from 'pg';
import { DEFAULT_DATABASE_URL } from '../../libs/db/src/defaults';
import { connect, databaseName, DbCommandError, ensureDatabase, redactUrl } from './connection';

export const MIGRATIONS_DIR = path.resolve(__dirname, '../../prisma/migrations');

/** The key `prisma migrate` locks on, so this runner and Prisma's never run at once either. */
const PRISMA_ADVISORY_LOCK_KEY = 72707369;

// Prisma's own DDL for Postgres, column for column.
const CREATE_MIGRATIONS_TABLE = `CREATE TABLE IF NOT EXISTS _prisma_migrations (
    id                      VARCHAR(36) PRIMARY KEY NOT NULL,
    checksum                VARCHAR(64) NOT NULL,
    finished_at             TIMESTAMPTZ,
    migration_name          VARCHAR(255) NOT NULL,
    logs                    TEXT,
    rolled_back_at          TIMESTAMPTZ,
    started_at              TIMESTAMPTZ NOT NULL DEFAULT now(),
    applied_steps_count     INTEGER NOT NULL DEFAULT 0
)`;

export interface LocalMigration {
  name: string;
  sql: string;
  checksum: string;
}

export interface MigrateOptions {
  databaseUrl: string;
  migrationsDir?: string;
  /** How long to wait for another migrator to finish before giving up. */
  lockTimeoutMs?: number;
  log?: (line: string) => void;
}

export interface MigrateResult {
  createdDatabase: boolean;
  applied: string[];
  alreadyApplied: string[];
}

interface AppliedRow {
  migration_name: string;
  checksum: string;
  started_at: Date;
  finished_at: Date | null;
  rolled_back_at: Date | null;
}

export function checksumOf(sql: string): string {
  return createHash('sha256').update(sql, 'utf8').digest('hex');
}

/** Prisma accepts a checksum taken before git converted line endings, so a Windows checkout is not "edited". */
function matchesChecksum(sql: string, checksum: string): boolean {
  return [sql, sql.replace(/\r\n/g, '\n'), sql.replace(/\r?\n/g, '\r\n')].some((variant) => checksumOf(variant) === checksum);
}

/** Migration folders in the order Prisma applies them: by name. */
export function readMigrations(migrationsDir: string = MIGRATIONS_DIR): LocalMigration[] {
  if (!existsSync(migrationsDir)) return [];
  return readdirSync(migrationsDir, { withFileTypes: true })
    .filter((entry) => entry.isDirectory())
    .map((entry) => entry.name)
    .sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))
    .map((name) => {
      const file = path.join(migrationsDir, name, 'migration.sql');
      if (!existsSync(file)) throw new DbCommandError(`Migration folder ${name} has no migration.sql`);
      const sql = readFileSync(file, 'utf8');
      return { name, sql, checksum: checksumOf(sql) };
    });
}

function lineOf(sql: string, position: unknown): string {
  const offset = typeof position === 'string' ? Number.parseInt(position, 10) : NaN;
  if (!Number.isFinite(offset)) return '';
  return ` (line ${sql.slice(0, offset - 1).split('\n').length})`;
}

async function acquireLock(client: Client, timeoutMs: number, log: (line: string) => void): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let told = false;
  for (;;) {
    const { rows } = await client.query<{ locked: boolean }>('SELECT pg_try_advisory_lock($1) AS locked', [PRISMA_ADVISORY_LOCK_KEY]);
    if (rows[0]?.locked) return;
    if (Date.now() > deadline) {
      throw new DbCommandError(
        `Another migrator has held the migration lock (pg advisory lock ${PRISMA_ADVISORY_LOCK_KEY}) for over ${timeoutMs} ms; giving up`,
      );
    }
    if (!told) {
      log('Waiting for another migrator to finish...');
      told = true;
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

function checkHistory(rows: AppliedRow[], local: LocalMigration[], database: string, log: (line: string) => void): void {
  const failed = rows.filter((row) => row.finished_at === null && row.rolled_back_at === null);
  if (failed.length > 0) {
    throw new DbCommandError(
      `Database ${database} records migrations that started but never finished: ${failed.map((row) => row.migration_name).join(', ')}. ` +
        'Repair the database by hand, then mark them with `prisma migrate resolve` (or delete their _prisma_migrations rows) before migrating again.',
    );
  }
  const byName = new Map(local.map((migration) => [migration.name, migration]));
  const applied = rows.filter((row) => row.finished_at !== null && row.rolled_back_at === null);
  const edited = applied.filter((row) => {
    const migration = byName.get(row.migration_name);
    return migration !== undefined && !matchesChecksum(migration.sql, row.checksum);
  });
  if (edited.length > 0) {
    throw new DbCommandError(
      `Refusing to migrate ${database}: these migrations were changed after they were applied: ` +
        edited.map((row) => `${row.migration_name} (applied checksum ${row.checksum}, file now ${byName.get(row.migration_name)?.checksum})`).join(', ') +
        '. Restore the applied migration.sql and put the change in a new migration (npm run db:diff -- <name>).',
    );
  }
  const missingHere = applied.filter((row) => !byName.has(row.migration_name));
  if (missingHere.length > 0) {
    log(`Warning: ${database} has migrations this checkout does not have: ${missingHere.map((row) => row.migration_name).join(', ')}`);
  }
}

async function applyOne(client: Client, migration: LocalMigration): Promise<void> {
  await client.query('BEGIN');
  try {
    await client.query(
      `INSERT INTO _prisma_migrations (id, checksum, migration_name, started_at, applied_steps_count)
       VALUES ($1, $2, $3, clock_timestamp(), 0)`,
      [randomUUID(), migration.checksum, migration.name],
    );
    try {
      await client.query(migration.sql);
    } catch (error) {
      const position = typeof error === 'object' && error !== null && 'position' in error ? error.position : undefined;
      const message = error instanceof Error ? error.message : String(error);
      throw new DbCommandError(`Migration ${migration.name} failed${lineOf(migration.sql, position)}: ${message}. Nothing of it was applied.`, {
        cause: error,
      });
    }
    await client.query(
      `UPDATE _prisma_migrations SET finished_at = clock_timestamp(), applied_steps_count = 1 WHERE migration_name = $1 AND finished_at IS NULL`,
      [migration.name],
    );
    await client.query('COMMIT');
  } catch (error) {
    // The migration's own error is the one worth reporting, even if the connection is gone too.
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  }
}

/** Applies every migration the database lacks, each in its own transaction, in name order. */
export async function migrate(options: MigrateOptions): Promise<MigrateResult> {
  const log = options.log ?? (() => undefined);
  const local = readMigrations(options.migrationsDir ?? MIGRATIONS_DIR);
  const database = databaseName(options.databaseUrl);
  const createdDatabase = await ensureDatabase(options.databaseUrl);
  if (createdDatabase) log(`Created database ${database}`);

  const client = await connect(options.databaseUrl);
  try {
    await acquireLock(client, options.lockTimeoutMs ?? 60_000, log);
    await client.query(CREATE_MIGRATIONS_TABLE);
    // Read only once the lock is held, so a migrator that waited sees what the other one applied.
    const { rows } = await client.query<AppliedRow>(
      'SELECT migration_name, checksum, started_at, finished_at, rolled_back_at FROM _prisma_migrations ORDER BY started_at',
    );
    checkHistory(rows, local, database, log);
    const done = new Set(rows.filter((row) => row.finished_at !== null && row.rolled_back_at === null).map((row) => row.migration_name));
    const applied: string[] = [];
    for (const migration of local) {
      if (done.has(migration.name)) continue;
      await applyOne(client, migration);
      applied.push(migration.name);
      log(`Applied ${migration.name}`);
    }
    return { createdDatabase, applied, alreadyApplied: local.filter((migration) => done.has(migration.name)).map((m) => m.name) };
  } finally {
    await client.end();
  }
}

async function main(): Promise<void> {
  const databaseUrl = process.env['DATABASE_URL'] || DEFAULT_DATABASE_URL;
  const result = await migrate({ databaseUrl, log: (line) => console.log(line) });
  const total = result.applied.length + result.alreadyApplied.length;
  console.log(
    result.applied.length === 0
      ? `${redactUrl(databaseUrl)} is up to date (${total} migrations)`
      : `${redactUrl(databaseUrl)}: applied ${result.applied.length} of ${total} migrations`,
  );
}

if (require.main === module) {
  main().catch((error: unknown) => {
    console.error(error instanceof DbCommandError ? `db:migrate: ${error.message}` : error);
    process.exit(1);
  });
}
