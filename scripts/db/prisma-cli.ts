import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { DbCommandError, dropDatabase, ensureDatabase, withDatabase } from './connection';

export const REPO_ROOT = path.resolve(__dirname, '../..');
export const SCHEMA_PATH = path.join(REPO_ROOT, 'prisma/schema.prisma');
const DIFF_CONFIG = path.join(__dirname, 'prisma-diff.config.ts');
const NO_SCHEMA_ENGINE = path.join(REPO_ROOT, 'tools/prisma/no-schema-engine');

export interface PrismaRun {
  exitCode: number;
  stdout: string;
  stderr: string;
}

function runPrisma(args: string[], env: NodeJS.ProcessEnv): Promise<PrismaRun> {
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      [require.resolve('prisma/build/index.js'), ...args],
      { cwd: REPO_ROOT, env, maxBuffer: 64 * 1024 * 1024 },
      (error, stdout, stderr) => {
        if (error && typeof error.code !== 'number') {
          reject(new Error(`Could not run the Prisma CLI: ${error.message}`, { cause: error }));
          return;
        }
        resolve({ exitCode: typeof error?.code === 'number' ? error.code : 0, stdout, stderr });
      },
    );
  });
}

/**
 * `prisma migrate diff <args> --script --exit-code` against a throwaway database on the server of
 * serverUrl: the adapter needs a database to connect to, and --from-migrations builds its shadow
 * database from there. Exit code 0: no difference, 2: a difference (the SQL is on stdout).
 */
export async function prismaMigrateDiff(args: string[], serverUrl: string): Promise<PrismaRun> {
  const scratchUrl = withDatabase(serverUrl, `farm_prisma_diff_${randomBytes(6).toString('hex')}`);
  await ensureDatabase(scratchUrl);
  try {
    const run = await runPrisma(['migrate', 'diff', '--config', DIFF_CONFIG, ...args, '--script', '--exit-code'], {
      ...process.env,
      PRISMA_DIFF_DATABASE_URL: scratchUrl,
      PRISMA_SCHEMA_ENGINE_BINARY: NO_SCHEMA_ENGINE,
      CHECKPOINT_DISABLE: '1',
      PRISMA_HIDE_UPDATE_MESSAGE: '1',
    });
    if (run.exitCode !== 0 && run.exitCode !== 2) {
      throw new DbCommandError(`prisma migrate diff ${args.join(' ')} failed (exit ${run.exitCode}):\n${run.stderr.trim() || run.stdout.trim()}`);
    }
    return run;
  } finally {
    await dropDatabase(scratchUrl);
  }
}
