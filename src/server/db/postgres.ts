// PostgreSQL through a pg Pool. Portal replicas share one database, so anything that must happen
// once (migrations) takes an advisory lock; everything else is ordinary transactions.

import pg from 'pg';
import type { z } from 'zod';
import type { Logger } from '../log.ts';
import { redactUrl } from '../config.ts';
import { parseRows } from './rows.ts';
import { QueryError, type Database, type Queryable, type SqlValue } from './types.ts';

const POOL_SIZE = 10;
const CONNECT_TIMEOUT_MS = 10_000;

interface Client {
  query(sql: string, params?: unknown[]): Promise<pg.QueryResult>;
}

function queryable(client: Client): Queryable {
  const attempt = async (sql: string, params: readonly SqlValue[]) => {
    try {
      return await client.query(sql, params.length > 0 ? [...params] : undefined);
    } catch (error) {
      throw new QueryError(sql, error);
    }
  };
  return {
    dialect: 'postgres',
    async all<Row>(row: z.ZodType<Row>, sql: string, params: readonly SqlValue[] = []) {
      return parseRows(row, sql, (await attempt(sql, params)).rows);
    },
    async one<Row>(row: z.ZodType<Row>, sql: string, params: readonly SqlValue[] = []) {
      const found = (await attempt(sql, params)).rows[0];
      return found === undefined ? null : (parseRows(row, sql, [found])[0] ?? null);
    },
    async run(sql: string, params: readonly SqlValue[] = []) {
      return (await attempt(sql, params)).rowCount ?? 0;
    },
    async exec(script: string) {
      // Without parameters pg uses the simple query protocol, which accepts several statements.
      await attempt(script, []);
    },
  };
}

export function openPostgres(url: string, log: Logger): Database {
  const pool = new pg.Pool({
    connectionString: url,
    max: POOL_SIZE,
    connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
    application_name: 'formicary',
  });
  // An idle client losing its connection is reported here; without a listener it would crash
  // the process. The pool replaces the client on next use.
  pool.on('error', (error) => log.warn({ err: error, database: redactUrl(url) }, 'PostgreSQL connection lost'));
  const direct = queryable(pool);

  return {
    ...direct,
    async transaction<T>(work: (tx: Queryable) => Promise<T>): Promise<T> {
      const client = await pool.connect();
      let broken = false;
      try {
        await client.query('BEGIN');
        const result = await work(queryable(client));
        await client.query('COMMIT');
        return result;
      } catch (error) {
        // A connection that cannot even roll back is not given back to the pool.
        await client.query('ROLLBACK').catch(() => (broken = true));
        throw error;
      } finally {
        client.release(broken);
      }
    },
    async ping() {
      await direct.run('SELECT 1');
    },
    async close() {
      if (!pool.ended) await pool.end();
    },
  };
}
