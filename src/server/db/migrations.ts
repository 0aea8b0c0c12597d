// One set of migrations for both databases, as files in ./migrations:
//   NNNN-name.sql                              dialect-neutral (the usual case), or
//   NNNN-name.sqlite.sql + NNNN-name.postgres.sql  when the two must differ.
// Adding a migration is adding a file. They run in name order, all pending ones in one
// transaction, each recorded with a checksum so an edited, already-applied file is caught.

import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import type { Database, Dialect, Queryable } from './types.ts';

export const MIGRATIONS_DIRECTORY = fileURLToPath(new URL('./migrations/', import.meta.url));

const FILE_NAME = /^(\d{4}-[a-z0-9][a-z0-9-]*)(?:\.(sqlite|postgres))?\.sql$/;

/** Any fixed 64-bit number; every portal replica must use the same one. */
const POSTGRES_MIGRATION_LOCK = '4917202417';

export interface Migration {
  id: string;
  sql: string;
  checksum: string;
}

export interface MigrationReport {
  /** Ids applied by this call, in order. */
  applied: string[];
  /** Ids recorded in the database that no file here knows: the database is newer than this code. */
  unknown: string[];
}

export class MigrationError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'MigrationError';
  }
}

/** Reads the migrations for one dialect from `directory`, validating the file names. */
export async function readMigrations(dialect: Dialect, directory: string = MIGRATIONS_DIRECTORY): Promise<Migration[]> {
  const byId = new Map<string, { neutral?: string; sqlite?: string; postgres?: string }>();
  for (const name of (await readdir(directory)).sort()) {
    if (!name.endsWith('.sql')) continue;
    const match = FILE_NAME.exec(name);
    if (!match?.[1]) {
      throw new MigrationError(
        `${path.join(directory, name)}: not a migration name; use NNNN-name.sql, or NNNN-name.sqlite.sql and NNNN-name.postgres.sql (lower case, digits and dashes)`,
      );
    }
    const files = byId.get(match[1]) ?? {};
    files[(match[2] as Dialect | undefined) ?? 'neutral'] = name;
    byId.set(match[1], files);
  }

  const migrations: Migration[] = [];
  for (const [id, files] of [...byId].sort(([a], [b]) => a.localeCompare(b))) {
    if (files.neutral && (files.sqlite || files.postgres)) {
      throw new MigrationError(`${path.join(directory, id)}: has both ${id}.sql and a dialect file; keep one or the other`);
    }
    if (!files.neutral && !(files.sqlite && files.postgres)) {
      const missing = files.sqlite ? `${id}.postgres.sql` : `${id}.sqlite.sql`;
      throw new MigrationError(`${path.join(directory, id)}: ${missing} is missing; a dialect-specific migration needs both files`);
    }
    const file = files.neutral ?? files[dialect];
    if (!file) continue;
    const sql = await readFile(path.join(directory, file), 'utf8');
    migrations.push({ id, sql, checksum: createHash('sha256').update(sql).digest('hex') });
  }
  return migrations;
}

const appliedRow = z.object({ id: z.string(), checksum: z.string() });

async function lockAndRead(tx: Queryable): Promise<Map<string, string>> {
  // PostgreSQL: two replicas starting at once queue here; the second then finds nothing to do.
  // SQLite: the transaction's BEGIN IMMEDIATE already holds the database's write lock.
  if (tx.dialect === 'postgres') await tx.run('SELECT pg_advisory_xact_lock($1::bigint)', [POSTGRES_MIGRATION_LOCK]);
  await tx.run(
    'CREATE TABLE IF NOT EXISTS schema_migrations (id TEXT PRIMARY KEY, checksum TEXT NOT NULL, applied_at TEXT NOT NULL)',
  );
  const rows = await tx.all(appliedRow, 'SELECT id, checksum FROM schema_migrations');
  return new Map(rows.map((row) => [row.id, row.checksum]));
}

/** Applies every pending migration in one transaction; safe to call from several processes at once. */
export async function applyMigrations(
  db: Database,
  migrations: readonly Migration[],
  now: () => Date = () => new Date(),
): Promise<MigrationReport> {
  return db.transaction(async (tx) => {
    const recorded = await lockAndRead(tx);
    const applied: string[] = [];
    for (const migration of migrations) {
      const checksum = recorded.get(migration.id);
      if (checksum === undefined) {
        await tx.exec(migration.sql);
        await tx.run('INSERT INTO schema_migrations (id, checksum, applied_at) VALUES ($1, $2, $3)', [
          migration.id,
          migration.checksum,
          now().toISOString(),
        ]);
        applied.push(migration.id);
      } else if (checksum !== migration.checksum) {
        throw new MigrationError(
          `migration ${migration.id} was changed after it was applied to this database; restore the file and add a new migration for the change`,
        );
      }
    }
    const known = new Set(migrations.map((m) => m.id));
    return { applied, unknown: [...recorded.keys()].filter((id) => !known.has(id)).sort() };
  });
}
