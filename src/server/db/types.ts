// What the rest of the portal sees of a database: the same three calls on SQLite and PostgreSQL.
// SQL uses `$1, $2, …` placeholders (PostgreSQL's); the SQLite driver rewrites them. Every row is
// validated by a zod schema on the way out, so a column renamed in a migration fails loudly at
// the query that reads it.

import type { z } from 'zod';

export type Dialect = 'sqlite' | 'postgres';

/** Booleans and dates are left out on purpose: the two databases store them differently. */
export type SqlValue = string | number | bigint | null | Uint8Array;

export interface Queryable {
  readonly dialect: Dialect;
  /** Every row the statement returns, each parsed by `row`. */
  all<Row>(row: z.ZodType<Row>, sql: string, params?: readonly SqlValue[]): Promise<Row[]>;
  /** The first row, or null when there is none. */
  one<Row>(row: z.ZodType<Row>, sql: string, params?: readonly SqlValue[]): Promise<Row | null>;
  /** Runs a statement and returns how many rows it changed. */
  run(sql: string, params?: readonly SqlValue[]): Promise<number>;
  /** Runs a script of several statements without parameters (migrations). */
  exec(script: string): Promise<void>;
}

export interface Database extends Queryable {
  /**
   * Runs `work` in one transaction: committed when it resolves, rolled back when it throws.
   * Queries inside must go through `tx`; on SQLite other callers wait until the transaction ends.
   */
  transaction<T>(work: (tx: Queryable) => Promise<T>): Promise<T>;
  /** Resolves when the database answers a trivial query. */
  ping(): Promise<void>;
  close(): Promise<void>;
}

export class QueryError extends Error {
  readonly sql: string;

  constructor(sql: string, cause: unknown) {
    const reason = cause instanceof Error ? cause.message : String(cause);
    super(`${reason} (in: ${summarize(sql)})`, { cause });
    this.name = 'QueryError';
    this.sql = sql;
  }
}

function summarize(sql: string): string {
  const flat = sql.replace(/\s+/g, ' ').trim();
  return flat.length > 120 ? `${flat.slice(0, 117)}...` : flat;
}
