// The database: SQLite by default (a file under DATA_DIR), PostgreSQL when DATABASE_URL says so.

import type { DatabaseConfig } from '../config.ts';
import type { Logger } from '../log.ts';
import { openPostgres } from './postgres.ts';
import { openSqlite } from './sqlite.ts';
import type { Database } from './types.ts';

export type { Database, Dialect, Queryable, SqlValue } from './types.ts';
export { QueryError } from './types.ts';
export { applyMigrations, readMigrations, MigrationError, MIGRATIONS_DIRECTORY } from './migrations.ts';
export type { Migration, MigrationReport } from './migrations.ts';

export function openDatabase(config: DatabaseConfig, log: Logger): Database {
  return config.kind === 'sqlite' ? openSqlite(config.file) : openPostgres(config.url, log);
}
