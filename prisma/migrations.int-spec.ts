// The migrations in prisma/migrations must build exactly the database prisma/schema.prisma
// describes, and the runner that applies them must be safe to run again, and at once.
import { randomBytes } from 'node:crypto';
import { appendFileSync, cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { connect, DbCommandError, dropDatabase, recreateDatabase, withDatabase } from '../scripts/db/connection';
import { migrate, MIGRATIONS_DIR, readMigrations } from '../scripts/db/migrate';
import { prismaMigrateDiff, type PrismaRun, SCHEMA_PATH } from '../scripts/db/prisma-cli';
import { schemaDump } from '../scripts/db/schema-dump';
import { DEFAULT_TEST_DATABASE_URL } from '../scripts/testing/global-setup';

const serverUrl = process.env['TEST_DATABASE_URL'] || DEFAULT_TEST_DATABASE_URL;
const suffix = randomBytes(4).toString('hex');
const scratchDatabases: string[] = [];
const tempDirs: string[] = [];

function scratchUrl(purpose: string): string {
  const url = withDatabase(serverUrl, `farm_test_${purpose}_${suffix}`);
  scratchDatabases.push(url);
  return url;
}

function tempMigrationsCopy(): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'farm-migrations-'));
  tempDirs.push(dir);
  cpSync(MIGRATIONS_DIR, dir, { recursive: true });
  return dir;
}

async function query<T extends object>(databaseUrl: string, sql: string): Promise<T[]> {
  const client = await connect(databaseUrl);
  try {
    return (await client.query<T>(sql)).rows;
  } finally {
    await client.end();
  }
}

async function recorded(databaseUrl: string): Promise<string[]> {
  const rows = await query<{ migration_name: string }>(databaseUrl, 'SELECT migration_name FROM _prisma_migrations ORDER BY migration_name');
  return rows.map((row) => row.migration_name);
}

afterAll(async () => {
  for (const url of scratchDatabases) await dropDatabase(url);
  for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
});

describe('prisma/migrations against prisma/schema.prisma', () => {
  const local = readMigrations();
  let fromMigrations = '';
  let fromSchema = '';
  let incremental: PrismaRun;

  async function buildFromMigrations(): Promise<string> {
    const databaseUrl = scratchUrl('from_migrations');
    await recreateDatabase(databaseUrl);
    await migrate({ databaseUrl });
    return schemaDump(databaseUrl);
  }

  async function buildFromSchema(): Promise<string> {
    const databaseUrl = scratchUrl('from_schema');
    const full = await prismaMigrateDiff(['--from-empty', '--to-schema-datamodel', SCHEMA_PATH], serverUrl);
    await recreateDatabase(databaseUrl);
    const client = await connect(databaseUrl);
    try {
      await client.query(full.stdout);
    } finally {
      await client.end();
    }
    return schemaDump(databaseUrl);
  }

  // Each Prisma CLI run takes seconds, so the three builds run side by side.
  beforeAll(async () => {
    [fromMigrations, fromSchema, incremental] = await Promise.all([
      buildFromMigrations(),
      buildFromSchema(),
      prismaMigrateDiff(['--from-migrations', MIGRATIONS_DIR, '--to-schema-datamodel', SCHEMA_PATH], serverUrl),
    ]);
  });

  it('has migrations', () => {
    expect(local.length).toBeGreaterThan(0);
  });

  it('builds the same schema as the schema file (pg_dump of both; fix with npm run db:diff -- <name>)', () => {
    expect(fromSchema).toContain('CREATE TABLE public.measurements');
    // Received: built by the migrations; Expected: built from schema.prisma.
    expect(fromMigrations).toBe(fromSchema);
  });

  it('leaves nothing for prisma migrate diff to add', () => {
    expect(incremental.stdout.trim()).toBe('-- This is an empty migration.');
    expect(incremental.exitCode).toBe(0);
  });
});

describe('the migration runner', () => {
  const names = readMigrations().map((migration) => migration.name);

  it('records migrations as Prisma does, and applies nothing the second time', async () => {
    const databaseUrl = scratchUrl('idempotent');
    await dropDatabase(databaseUrl);
    const first = await migrate({ databaseUrl });
    expect(first).toEqual({ createdDatabase: true, applied: names, alreadyApplied: [] });

    const rows = await query<{ id: string; checksum: string; finished_at: Date | null; applied_steps_count: number; logs: string | null }>(
      databaseUrl,
      'SELECT id, checksum, finished_at, applied_steps_count, logs FROM _prisma_migrations ORDER BY migration_name',
    );
    expect(rows.map((row) => row.checksum)).toEqual(readMigrations().map((migration) => migration.checksum));
    for (const row of rows) {
      expect(row.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
      expect(row.checksum).toMatch(/^[0-9a-f]{64}$/);
      expect(row.finished_at).toBeInstanceOf(Date);
      expect(row.applied_steps_count).toBe(1);
      expect(row.logs).toBeNull();
    }

    const second = await migrate({ databaseUrl });
    expect(second).toEqual({ createdDatabase: false, applied: [], alreadyApplied: names });
    expect(await recorded(databaseUrl)).toEqual(names);
  });

  it('refuses when an applied migration was edited, but not over line endings', async () => {
    const databaseUrl = scratchUrl('checksum');
    const migrationsDir = tempMigrationsCopy();
    await recreateDatabase(databaseUrl);
    await migrate({ databaseUrl, migrationsDir });

    const file = path.join(migrationsDir, names[0] ?? '', 'migration.sql');
    const original = readFileSync(file, 'utf8');
    writeFileSync(file, original.replace(/\n/g, '\r\n'));
    await expect(migrate({ databaseUrl, migrationsDir })).resolves.toMatchObject({ applied: [] });

    writeFileSync(file, original);
    appendFileSync(file, '\nCREATE TABLE sneaked_in (id int);\n');
    const refusal = migrate({ databaseUrl, migrationsDir });
    await expect(refusal).rejects.toThrow(DbCommandError);
    await expect(refusal).rejects.toThrow(new RegExp(`changed after they were applied: ${names[0]}`));
    const sneaked = await query<{ exists: boolean }>(databaseUrl, "SELECT to_regclass('sneaked_in') IS NOT NULL AS exists");
    expect(sneaked[0]?.exists).toBe(false);
  });

  it('applies each migration once when two runners start together on a missing database', async () => {
    const databaseUrl = scratchUrl('concurrent');
    const migrationsDir = tempMigrationsCopy();
    // A slow last migration keeps the first runner busy while the second one arrives.
    mkdirSync(path.join(migrationsDir, '99991231235959_slow'));
    writeFileSync(path.join(migrationsDir, '99991231235959_slow', 'migration.sql'), 'SELECT pg_sleep(0.5);\nCREATE TABLE slow_probe (id int);\n');
    const all = [...names, '99991231235959_slow'];
    await dropDatabase(databaseUrl);

    const results = await Promise.all([migrate({ databaseUrl, migrationsDir }), migrate({ databaseUrl, migrationsDir })]);

    expect(results.map((result) => result.applied).sort((a, b) => a.length - b.length)).toEqual([[], all]);
    expect(results.filter((result) => result.createdDatabase)).toHaveLength(1);
    expect(await recorded(databaseUrl)).toEqual(all);
  });

  it('rolls a failing migration back whole and records nothing of it', async () => {
    const databaseUrl = scratchUrl('failing');
    const migrationsDir = tempMigrationsCopy();
    mkdirSync(path.join(migrationsDir, '99991231235959_broken'));
    writeFileSync(path.join(migrationsDir, '99991231235959_broken', 'migration.sql'), 'CREATE TABLE half_done (id int);\n\nINSERT INTO nowhere VALUES (1);\n');
    await recreateDatabase(databaseUrl);

    await expect(migrate({ databaseUrl, migrationsDir })).rejects.toThrow(/Migration 99991231235959_broken failed \(line 3\): relation "nowhere" does not exist/);
    expect(await recorded(databaseUrl)).toEqual(names);
    const halfDone = await query<{ exists: boolean }>(databaseUrl, "SELECT to_regclass('half_done') IS NOT NULL AS exists");
    expect(halfDone[0]?.exists).toBe(false);
  });

  it('names DATABASE_URL when PostgreSQL cannot be reached', async () => {
    await expect(migrate({ databaseUrl: 'postgresql://postgres:secret@127.0.0.1:1/farm' })).rejects.toThrow(
      /^Cannot reach PostgreSQL at DATABASE_URL=postgresql:\/\/postgres:\*\*\*@127\.0\.0\.1:1\/farm \(ECONNREFUSED/,
    );
  });
});
