// SQLite through node:sqlite (built into Node, no native module). One connection in WAL mode:
// readers never wait for the writer, and statements are synchronous and short. A transaction is
// async (its work awaits), so while one is open every other caller queues behind it — otherwise
// their statements would run inside it on the shared connection.

import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { DatabaseSync, type StatementSync } from 'node:sqlite';
import type { z } from 'zod';
import { parseRows } from './rows.ts';
import { QueryError, type Database, type Queryable, type SqlValue } from './types.ts';

/** How long a statement waits for another process's write lock before failing. */
const BUSY_TIMEOUT_MS = 10_000;
const STATEMENT_CACHE_LIMIT = 500;
const SQLITE_BUSY = 5;

export function openSqlite(file: string): Database {
  if (file !== ':memory:') mkdirSync(path.dirname(file), { recursive: true });
  const connection = new DatabaseSync(file, { timeout: BUSY_TIMEOUT_MS, enableForeignKeyConstraints: true });
  connection.exec('PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL;');

  const statements = new Map<string, StatementSync>();
  const prepare = (sql: string): StatementSync => {
    let statement = statements.get(sql);
    if (!statement) {
      // SQLite reads `?1` as "the first parameter", which is what `$1` means in PostgreSQL.
      statement = connection.prepare(sql.replace(/\$(\d+)/g, '?$1'));
      if (statements.size >= STATEMENT_CACHE_LIMIT) statements.clear();
      statements.set(sql, statement);
    }
    return statement;
  };
  const attempt = <T>(sql: string, work: () => T): T => {
    try {
      return work();
    } catch (error) {
      throw new QueryError(sql, error);
    }
  };

  const direct: Queryable = {
    dialect: 'sqlite',
    async all<Row>(row: z.ZodType<Row>, sql: string, params: readonly SqlValue[] = []) {
      return parseRows(row, sql, attempt(sql, () => prepare(sql).all(...params)));
    },
    async one<Row>(row: z.ZodType<Row>, sql: string, params: readonly SqlValue[] = []) {
      const found = attempt(sql, () => prepare(sql).get(...params));
      return found === undefined ? null : (parseRows(row, sql, [found])[0] ?? null);
    },
    async run(sql: string, params: readonly SqlValue[] = []) {
      return Number(attempt(sql, () => prepare(sql).run(...params)).changes);
    },
    async exec(script: string) {
      attempt(script, () => connection.exec(script));
    },
  };

  // IMMEDIATE takes the write lock now, so two writers never both read and then both try to
  // upgrade to writing (which SQLite resolves by failing one). Waiting for the lock is done here
  // with timers rather than SQLite's busy handler, which would block the event loop — and with
  // it every request, and any other connection in this process that holds the lock.
  const beginImmediate = async () => {
    const deadline = Date.now() + BUSY_TIMEOUT_MS;
    connection.exec('PRAGMA busy_timeout = 0');
    try {
      for (let pause = 2; ; pause = Math.min(pause * 2, 50)) {
        try {
          connection.exec('BEGIN IMMEDIATE');
          return;
        } catch (error) {
          if ((error as { errcode?: number }).errcode !== SQLITE_BUSY || Date.now() >= deadline) {
            throw new QueryError('BEGIN IMMEDIATE', error);
          }
        }
        await new Promise((resolve) => setTimeout(resolve, pause));
      }
    } finally {
      connection.exec(`PRAGMA busy_timeout = ${BUSY_TIMEOUT_MS}`);
    }
  };

  let queue: Promise<unknown> = Promise.resolve();
  let open = true;
  const serialized = <T>(work: () => Promise<T>): Promise<T> => {
    if (!open) return Promise.reject(new Error('the database is closed'));
    const result = queue.then(work);
    queue = result.catch(() => undefined);
    return result;
  };

  return {
    dialect: 'sqlite',
    all: (row, sql, params) => serialized(() => direct.all(row, sql, params)),
    one: (row, sql, params) => serialized(() => direct.one(row, sql, params)),
    run: (sql, params) => serialized(() => direct.run(sql, params)),
    exec: (script) => serialized(() => direct.exec(script)),
    transaction: (work) =>
      serialized(async () => {
        await beginImmediate();
        try {
          const result = await work(direct);
          attempt('COMMIT', () => connection.exec('COMMIT'));
          return result;
        } catch (error) {
          if (connection.isTransaction) connection.exec('ROLLBACK');
          throw error;
        }
      }),
    ping: () => serialized(async () => void attempt('SELECT 1', () => connection.prepare('SELECT 1').get())),
    close: async () => {
      if (!open) return;
      await serialized(async () => undefined);
      open = false;
      statements.clear();
      connection.close();
    },
  };
}
