import { PrismaPg } from '@prisma/adapter-pg';
import { PrismaClient } from './generated/client';

export * from './generated/client';
export { DEFAULT_DATABASE_URL } from './defaults';

/**
 * A Prisma client over node-postgres. The generated client has no query engine of its own
 * (engineType "client"), so it needs this driver adapter; call `$disconnect()` to end the pool.
 */
export function createPrismaClient(databaseUrl: string): PrismaClient {
  return new PrismaClient({ adapter: new PrismaPg({ connectionString: databaseUrl }) });
}
export * from './tokens';
