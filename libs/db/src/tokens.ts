import { createHash, randomBytes } from 'node:crypto';
import type { TokenCreate, TokenCreated, TokenRole, TokenView } from '@farm/contracts';

/**
 * API tokens, at the level of SQL, so that the API and the scripts that manage a database
 * (demo, start, the token command, the tests) share one way to make and check them.
 * A token is 256 random bits; only its SHA-256 is stored, and lookups go by that hash.
 */

/** A connection or a pool of node-postgres (`pg`). */
export interface Queryable {
  query(text: string, values?: unknown[]): Promise<{ rows: unknown[] }>;
}

/** What a request presenting a token is allowed to be. */
export interface TokenPrincipal {
  id: string;
  name: string;
  role: TokenRole;
  agentName: string | null;
  prefix: string;
  revoked: boolean;
}

const TOKEN_PREFIX = 'farm_';
/** How much of a token is kept to tell it apart: `farm_` and 8 characters (48 random bits). */
const VISIBLE_LENGTH = TOKEN_PREFIX.length + 8;

export function hashToken(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

function newToken(): string {
  return `${TOKEN_PREFIX}${randomBytes(32).toString('base64url')}`;
}

interface TokenRow {
  id: string;
  name: string;
  role: TokenRole;
  agent_name: string | null;
  prefix: string;
  created_at: Date;
  revoked_at: Date | null;
}

const COLUMNS = 'id, name, role, agent_name, prefix, created_at, revoked_at';

function view(row: TokenRow): TokenView {
  return {
    id: row.id,
    name: row.name,
    role: row.role,
    agent: row.agent_name,
    prefix: row.prefix,
    createdAt: row.created_at.toISOString(),
    revokedAt: row.revoked_at?.toISOString() ?? null,
  };
}

/** Creates a token and answers it, the only time it is seen. */
export async function createToken(db: Queryable, spec: TokenCreate): Promise<TokenCreated> {
  const token = newToken();
  const name = spec.name ?? (spec.agent ? `agent ${spec.agent}` : spec.role);
  const { rows } = await db.query(
    `INSERT INTO api_tokens (id, name, role, agent_name, prefix, hash) VALUES (gen_random_uuid(), $1, $2::"TokenRole", $3, $4, $5) RETURNING ${COLUMNS}`,
    [name, spec.role, spec.agent ?? null, token.slice(0, VISIBLE_LENGTH), hashToken(token)],
  );
  return { ...view(rows[0] as TokenRow), token };
}

export async function listTokens(db: Queryable): Promise<TokenView[]> {
  const { rows } = await db.query(`SELECT ${COLUMNS} FROM api_tokens ORDER BY created_at, id`);
  return (rows as TokenRow[]).map(view);
}

/**
 * Revokes the token with this id, or the one token whose prefix this is. Answers the token as it
 * now stands (revoking twice keeps the first time), `undefined` when none matches, and throws
 * when a prefix matches several.
 */
export async function revokeToken(db: Queryable, idOrPrefix: string): Promise<TokenView | undefined> {
  const byId = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(idOrPrefix);
  const { rows } = await db.query(`SELECT id FROM api_tokens WHERE ${byId ? 'id = $1::uuid' : 'prefix = $1'}`, [idOrPrefix]);
  if (rows.length > 1) throw new Error(`${rows.length} tokens start with ${idOrPrefix}: revoke one by its id`);
  const id = (rows[0] as { id: string } | undefined)?.id;
  if (id === undefined) return undefined;
  const updated = await db.query(
    `UPDATE api_tokens SET revoked_at = coalesce(revoked_at, now()) WHERE id = $1::uuid RETURNING ${COLUMNS}`,
    [id],
  );
  return view(updated.rows[0] as TokenRow);
}

/** The token a request presents, revoked or not; `undefined` for one that was never issued. */
export async function findToken(db: Queryable, presented: string): Promise<TokenPrincipal | undefined> {
  if (!presented.startsWith(TOKEN_PREFIX) || presented.length > 200) return undefined;
  const { rows } = await db.query(`SELECT ${COLUMNS} FROM api_tokens WHERE hash = $1`, [hashToken(presented)]);
  const row = rows[0] as TokenRow | undefined;
  return row && { id: row.id, name: row.name, role: row.role, agentName: row.agent_name, prefix: row.prefix, revoked: row.revoked_at !== null };
}

/**
 * On a database that has never had a token, creates an admin token and answers it (to be shown
 * once); otherwise answers `undefined`. Several API replicas starting at once make one: the
 * check and the insert hold a transaction-scoped advisory lock, on a connection of its own.
 */
export async function bootstrapAdminToken(connection: Queryable): Promise<TokenCreated | undefined> {
  await connection.query('BEGIN');
  try {
    await connection.query(`SELECT pg_advisory_xact_lock(hashtext('api_tokens bootstrap'))`);
    const { rows } = await connection.query('SELECT EXISTS (SELECT 1 FROM api_tokens) AS any');
    const created = (rows[0] as { any: boolean }).any ? undefined : await createToken(connection, { role: 'admin', name: 'first admin' });
    await connection.query('COMMIT');
    return created;
  } catch (error) {
    await connection.query('ROLLBACK').catch(() => undefined);
    throw error;
  }
}
