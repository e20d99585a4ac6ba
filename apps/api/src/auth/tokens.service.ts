import { Injectable, Logger, NotFoundException } from '@nestjs/common';
import type { TokenCreate, TokenCreated, TokenView } from '@farm/contracts';
import { bootstrapAdminToken, createToken, findToken, listTokens, revokeToken, type Queryable, type TokenPrincipal } from '@farm/db';
import { PrismaService } from '../prisma/prisma.service';

/**
 * How long a valid token, once read, is taken without reading it again. Every request presents
 * one (an agent's reports many a second); a revocation through this replica takes effect at once,
 * through another replica or `npm run token -- revoke` within this time.
 */
const TOKEN_CACHE_MS = 2_000;
/** Valid tokens held at most: more than a farm has, so only a flood of new ones empties it. */
const TOKEN_CACHE_SIZE = 10_000;

@Injectable()
export class TokensService {
  private readonly db: Queryable;
  /** Valid tokens recently read, by the token presented. Invalid ones are always read again. */
  private readonly recent = new Map<string, { principal: TokenPrincipal; until: number }>();

  constructor(private readonly prisma: PrismaService) {
    this.db = { query: async (text, values) => ({ rows: await prisma.sql.query(text, values) }) };
  }

  async find(presented: string): Promise<TokenPrincipal | undefined> {
    const now = Date.now();
    const hit = this.recent.get(presented);
    if (hit && hit.until > now) return hit.principal;
    const principal = await findToken(this.db, presented);
    if (!principal || principal.revoked) {
      this.recent.delete(presented);
      return principal;
    }
    if (this.recent.size >= TOKEN_CACHE_SIZE) this.recent.clear();
    this.recent.set(presented, { principal, until: now + TOKEN_CACHE_MS });
    return principal;
  }

  create(spec: TokenCreate): Promise<TokenCreated> {
    return createToken(this.db, spec);
  }

  list(): Promise<TokenView[]> {
    return listTokens(this.db);
  }

  async revoke(id: string): Promise<TokenView> {
    const revoked = await revokeToken(this.db, id);
    if (!revoked) throw new NotFoundException(`no token ${id}`);
    for (const [presented, { principal }] of this.recent) if (principal.id === id) this.recent.delete(presented);
    new Logger(TokensService.name).log(`token ${revoked.prefix}… (${revoked.name}, ${revoked.role}) revoked`);
    return revoked;
  }

  /** The first admin token of an empty database, or `undefined` when tokens exist. */
  async bootstrap(): Promise<TokenCreated | undefined> {
    const connection = await this.prisma.connect();
    try {
      return await bootstrapAdminToken(connection);
    } finally {
      connection.release();
    }
  }
}
