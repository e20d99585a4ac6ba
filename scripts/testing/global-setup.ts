// Jest globalSetup for the integration tests: a fresh test database at the latest migration.
// Tests read its URL from DATABASE_URL (workers inherit the environment set here).
import { databaseName, DbCommandError, recreateDatabase, redactUrl } from '../db/connection';
import { migrate } from '../db/migrate';

export const DEFAULT_TEST_DATABASE_URL = 'postgresql://postgres@127.0.0.1:5432/farm_test';

export default async function globalSetup(): Promise<void> {
  const databaseUrl = process.env['TEST_DATABASE_URL'] || DEFAULT_TEST_DATABASE_URL;
  // The database is dropped: refuse anything that is not plainly a test database.
  if (!/test/i.test(databaseName(databaseUrl))) {
    throw new DbCommandError(`TEST_DATABASE_URL ${redactUrl(databaseUrl)} must name a database with "test" in it: it is dropped and recreated`);
  }
  await recreateDatabase(databaseUrl);
  await migrate({ databaseUrl });
  process.env['TEST_DATABASE_URL'] = databaseUrl;
  process.env['DATABASE_URL'] = databaseUrl;
}
