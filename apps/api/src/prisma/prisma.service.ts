import { Inject, Injectable, Logger, OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import { PrismaClient } from '@farm/db';
import { PrismaPg } from '@prisma/adapter-pg';
import { Pool, type PoolClient } from 'pg';
import { API_CONFIG, type ApiConfig } from '../config/config';

/** Raw SQL on a connection (or in a transaction): the statements of the hot paths. */
export interface Sql {
  /** Rows of a query. */
  query<R>(text: string, params?: readonly unknown[]): Promise<R[]>;
  /** Rows a statement touched. */
  execute(text: string, params?: readonly unknown[]): Promise<number>;
}

/**
 * Settings of every session of the pool. A transaction left idle (a stuck request) is ended by
 * the server after a minute rather than holding its row locks. The farm's reads go through keys
 * (a job's runs, a run's measurements): on SSDs or cached data a random page costs about what a
 * sequential one does, and with PostgreSQL's default of 4 the planner scans a table of millions
 * of measurements in parallel to find a job's thousands (1.4 s against 70 ms at 10 M rows).
 */
const SESSION_SETTINGS = '-c idle_in_transaction_session_timeout=60000 -c random_page_cost=1.1';

/**
 * The database: Prisma for reads and writes of whole records, and plain SQL on the same pool
 * for the paths that carry every report of every device (a Prisma interactive transaction
 * costs several times the statements it runs).
 */
@Injectable()
export class PrismaService extends PrismaClient implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger(PrismaService.name);
  private readonly pool: Pool;
  readonly sql: Sql;

  constructor(@Inject(API_CONFIG) config: ApiConfig) {
    const pool = new Pool({ connectionString: config.DATABASE_URL, max: config.DATABASE_POOL_SIZE, options: SESSION_SETTINGS });
    super({ adapter: new PrismaPg(pool) });
    // A connection that breaks (the server restarts, the network drops) fails the query it
    // carries and is discarded when released; unheard, its 'error' event would end the process.
    const lost = (error: Error) => this.logger.warn(`a database connection broke: ${error.message}`);
    pool.on('error', lost);
    pool.on('connect', (client) => client.on('error', lost));
    this.pool = pool;
    this.sql = sqlOf(pool);
  }

  async onModuleInit(): Promise<void> {
    await this.$connect();
  }

  /**
   * A connection of the shared pool for work that streams (an export's COPY); the caller
   * releases it. DATABASE_POOL_SIZE stays the one bound on the API's connections.
   */
  connect(): Promise<PoolClient> {
    return this.pool.connect();
  }

  /** Runs `work` in one transaction on one connection: committed if it resolves, rolled back if it throws. */
  async transaction<T>(work: (sql: Sql) => Promise<T>): Promise<T> {
    const client = await this.pool.connect();
    try {
      await client.query('BEGIN');
      const result = await work(sqlOf(client));
      await client.query('COMMIT');
      return result;
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw error;
    } finally {
      client.release();
    }
  }

  // Last of all at shutdown: the reaper and in-flight requests may still need the database.
  async onApplicationShutdown(): Promise<void> {
    await this.$disconnect();
    await this.pool.end();
  }
}

/** Raw SQL on a pool, or on one of its connections (a transaction's). */
export function sqlOf(target: Pool | PoolClient): Sql {
  const run = (text: string, params: readonly unknown[] = []) => target.query(text, [...params]);
  return {
    query: async <R>(text: string, params?: readonly unknown[]) => (await run(text, params)).rows as R[],
    execute: async (text: string, params?: readonly unknown[]) => (await run(text, params)).rowCount ?? 0,
  };
}
