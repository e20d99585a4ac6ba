import { Injectable, Logger, NotFoundException } from '@nestjs/common';
import type { TokenCreate, TokenCreated, TokenView } from '@farm/contracts';
import { bootstrapAdminToken, createToken, findToken, listTokens, revokeToken, type Queryable, type TokenPrincipal } from '@farm/db';
import { PrismaService } from '../prisma/prisma.service';

@Injectable()
export class TokensService {
  private readonly db: Queryable;

  constructor(private readonly prisma: PrismaService) {
    this.db = { query: async (text, values) => ({ rows: await prisma.sql.query(text, values) }) };
  }

  find(presented: string): Promise<TokenPrincipal | undefined> {
    return findToken(this.db, presented);
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
