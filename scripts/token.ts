// `npm run token -- create --role <role> [--agent <name>] [--name <label>]`, `list`, `revoke <id or prefix>`:
// the API's tokens, made and revoked directly in DATABASE_URL.
import { Command, CommanderError } from 'commander';
import { TOKEN_ROLES, TokenCreateSchema, type TokenView } from '@farm/contracts';
import { createToken, DEFAULT_DATABASE_URL, listTokens, revokeToken, type Queryable } from '@farm/db';
import { connect, DbCommandError } from './db/connection';
import { formatTable } from '@farm/client';

/** A mistake in the command's arguments: its message, and exit code 2. */
class UsageError extends Error {}

async function withDatabase<T>(work: (db: Queryable) => Promise<T>): Promise<T> {
  const db = await connect(process.env['DATABASE_URL'] || DEFAULT_DATABASE_URL);
  try {
    return await work(db);
  } catch (error) {
    // 42P01: the tokens table is not there yet.
    if (typeof error === 'object' && error !== null && 'code' in error && error.code === '42P01') {
      throw new DbCommandError('the database has no tokens table: run npm run db:migrate first');
    }
    throw error;
  } finally {
    await db.end();
  }
}

const describe = (t: TokenView): string => `${t.role} token ${t.prefix}… "${t.name}"${t.agent ? ` for agent ${t.agent}` : ''} (id ${t.id})`;

export function tokenCommand(out: (line: string) => void, err: (line: string) => void): Command {
  const program = new Command('token')
    .description("Makes, lists and revokes the API's tokens, directly in DATABASE_URL")
    .exitOverride()
    .configureOutput({ writeOut: (text) => out(text.trimEnd()), writeErr: (text) => err(text.trimEnd()) })
    .showHelpAfterError('(npm run token -- --help lists the commands)');

  program
    .command('create')
    .description('Prints a new token (only the token, on standard output); it is never shown again')
    .requiredOption('--role <role>', `one of ${TOKEN_ROLES.join(', ')}`)
    .option('--agent <name>', 'the agent (AGENT_NAME) an agent token acts as; required with --role agent')
    .option('--name <label>', 'what the token is for, shown in lists')
    .action(async (options: { role: string; agent?: string; name?: string }) => {
      const parsed = TokenCreateSchema.safeParse(options);
      if (!parsed.success) {
        throw new UsageError(parsed.error.issues.map((i) => `--${String(i.path[0] ?? 'role')}: ${i.message}`).join('; '));
      }
      const created = await withDatabase((db) => createToken(db, parsed.data));
      err(`created ${describe(created)}`);
      out(created.token);
    });

  program
    .command('list')
    .description('Every token: id, role, agent, prefix, name, created, revoked')
    .action(async () => {
      const tokens = await withDatabase(listTokens);
      out(
        formatTable(
          ['id', 'role', 'agent', 'prefix', 'name', 'created', 'revoked'],
          tokens.map((t) => [t.id, t.role, t.agent ?? '', t.prefix, t.name, t.createdAt, t.revokedAt ?? '']),
        ),
      );
    });

  program
    .command('revoke')
    .description('Revokes a token, named by its id or its prefix; the API refuses it within 2 s')
    .argument('<token>', 'the id or prefix of the token (from list)')
    .action(async (key: string) => {
      const revoked = await withDatabase((db) => revokeToken(db, key));
      if (!revoked) throw new UsageError(`no token has the id or prefix ${key} (npm run token -- list shows them)`);
      out(`revoked ${describe(revoked)}`);
    });
  return program;
}

/** Runs the command; answers the exit code. */
export async function runTokenCommand(argv: string[], out: (line: string) => void = console.log, err: (line: string) => void = console.error): Promise<number> {
  try {
    await tokenCommand(out, err).parseAsync(argv, { from: 'user' });
    return 0;
  } catch (error) {
    if (error instanceof CommanderError) return error.exitCode === 0 ? 0 : 2;
    if (error instanceof UsageError) {
      err(`token: ${error.message}`);
      return 2;
    }
    err(`token: ${error instanceof Error ? error.message : String(error)}`);
    return 1;
  }
}

if (require.main === module) {
  void runTokenCommand(process.argv.slice(2)).then((code) => process.exit(code));
}
