import { PrismaPg } from '@prisma/adapter-pg';
import { defineConfig } from 'prisma/config';
import { DEFAULT_DATABASE_URL } from './libs/db/src/defaults';

const databaseUrl = process.env['DATABASE_URL'] ?? DEFAULT_DATABASE_URL;
process.env['DATABASE_URL'] = databaseUrl;

export default defineConfig({
  experimental: { adapter: true },
  engine: 'js',
  schema: 'prisma/schema.prisma',
  migrations: { path: 'prisma/migrations' },
  adapter: () => Promise.resolve(new PrismaPg({ connectionString: databaseUrl })),
});
