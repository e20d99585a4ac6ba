import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const run = promisify(execFile);

/**
 * pg_dump's schema-only dump, reduced to what the schema decides. Prisma never reorders columns or
 * enum values in a migration (it appends them), so a database built from the full schema may list
 * them in another order than one built step by step; that order is not drift, so it is sorted away.
 */
export function normaliseSchemaDump(dump: string): string {
  const out: string[] = [];
  let block: string[] | null = null;
  for (const raw of dump.split('\n')) {
    const line = raw.trimEnd();
    if (line.startsWith('--') || line.startsWith('\\restrict') || line.startsWith('\\unrestrict')) continue;
    if (line.startsWith('SET ') || line.startsWith('SELECT pg_catalog.set_config')) continue;
    if (block !== null) {
      if (line.startsWith(')')) {
        out.push(...block.sort(), line);
        block = null;
      } else {
        block.push(line.replace(/,$/, ''));
      }
      continue;
    }
    out.push(line);
    if (/^CREATE (TABLE|TYPE) .*\($/.test(line)) block = [];
  }
  return out
    .join('\n')
    .replace(/\n{3,}/g, '\n\n')
    .trim();
}

/** The normalised schema of a database, without Prisma's bookkeeping table. */
export async function schemaDump(databaseUrl: string): Promise<string> {
  const { stdout } = await run(
    'pg_dump',
    ['--schema-only', '--no-owner', '--no-privileges', '--exclude-table=_prisma_migrations', '--dbname', databaseUrl],
    { maxBuffer: 64 * 1024 * 1024 },
  );
  return normaliseSchemaDump(stdout);
}
