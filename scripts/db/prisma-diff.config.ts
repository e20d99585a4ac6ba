// The Prisma config `npm run db:diff` and the drift test give `prisma migrate diff`. Without the
// native schema engine, Prisma 6.19 diffs through its WebAssembly engine over this driver adapter.
// It differs from prisma.config.ts in three ways, each working around an adapter-pg 6.19 defect:
// - Catalog queries return `name` and `"char"` columns, which the adapter refuses ("Column type
//   'name' could not be deserialized"), so --from-migrations cannot read the shadow database.
//   The client below reports them as text, which is what pg parses them into anyway.
// - The shadow database is the adapter's config with another `database`; with a connectionString
//   the string wins and the "shadow" migrations land in the main database. Discrete fields avoid it.
// - A pool's idle clients keep the CLI alive for 10 s after it has finished.
import { PrismaPg } from '@prisma/adapter-pg';
import pg from 'pg';
import { defineConfig } from 'prisma/config';
import { DEFAULT_DATABASE_URL } from '../../libs/db/src/defaults';

const OID_TEXT = 25;
const OID_TEXT_ARRAY = 1009;
const AS_TEXT: Record<number, number> = { 18: OID_TEXT, 19: OID_TEXT, 1002: OID_TEXT_ARRAY, 1003: OID_TEXT_ARRAY };

interface RowDescription {
  fields: { dataTypeID: number }[];
}
interface RowDescriptionHandler {
  _handleRowDescription(this: pg.Client, message: RowDescription): void;
}

const base = pg.Client.prototype as unknown as Partial<RowDescriptionHandler>;
const handleRowDescription = base._handleRowDescription;
if (typeof handleRowDescription !== 'function') {
  throw new Error('pg.Client no longer has _handleRowDescription: revisit scripts/db/prisma-diff.config.ts');
}

class CatalogAsTextClient extends pg.Client {
  _handleRowDescription(message: RowDescription): void {
    for (const field of message.fields) field.dataTypeID = AS_TEXT[field.dataTypeID] ?? field.dataTypeID;
    handleRowDescription?.call(this, message);
  }
}

const url = new URL(process.env['PRISMA_DIFF_DATABASE_URL'] || process.env['DATABASE_URL'] || DEFAULT_DATABASE_URL);
process.env['DATABASE_URL'] = url.toString();

function diffAdapter(): PrismaPg {
  const pool = new pg.Pool({
    host: url.hostname,
    port: url.port ? Number(url.port) : 5432,
    user: decodeURIComponent(url.username) || undefined,
    password: decodeURIComponent(url.password) || undefined,
    database: decodeURIComponent(url.pathname.slice(1)),
    Client: CatalogAsTextClient,
    idleTimeoutMillis: 50,
  });
  return new PrismaPg(pool);
}

export default defineConfig({
  experimental: { adapter: true },
  engine: 'js',
  schema: '../../prisma/schema.prisma',
  migrations: { path: '../../prisma/migrations' },
  adapter: () => Promise.resolve(diffAdapter()),
});
