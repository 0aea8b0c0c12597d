import { cp, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import {
  applyMigrations,
  MIGRATIONS_DIRECTORY,
  MigrationError,
  openDatabase,
  QueryError,
  readMigrations,
  type Database,
} from '../../../src/server/db/index.ts';
import { DIALECTS, useTestDatabases } from '../../support/databases.ts';
import { captureLogs } from '../../support/logs.ts';

const databases = useTestDatabases();
const { log } = captureLogs();

const tableRow = z.object({ name: z.string() });
const countRow = z.object({ count: z.coerce.number() });
const migrationRow = z.object({ id: z.string(), checksum: z.string(), applied_at: z.string() });

describe.each(DIALECTS)('database on %s', (dialect) => {
  const open: Database[] = [];
  let migrationsDir: string;

  async function freshDatabase(): Promise<{ db: Database; connect: () => Database }> {
    const config = await databases.fresh(dialect);
    const connect = () => {
      const db = openDatabase(config, log);
      open.push(db);
      return db;
    };
    return { db: connect(), connect };
  }

  async function tables(db: Database): Promise<string[]> {
    const sql =
      dialect === 'sqlite'
        ? "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name"
        : "SELECT table_name AS name FROM information_schema.tables WHERE table_schema = 'public' ORDER BY table_name";
    return (await db.all(tableRow, sql)).map((row) => row.name);
  }

  beforeEach(async () => {
    migrationsDir = await mkdtemp(path.join(tmpdir(), 'formicary-migrations-'));
    await cp(MIGRATIONS_DIRECTORY, migrationsDir, { recursive: true });
  });

  afterEach(async () => {
    await Promise.all(open.splice(0).map((db) => db.close()));
    await rm(migrationsDir, { recursive: true, force: true });
  });

  it('applies the migrations once and records them', async () => {
    const { db } = await freshDatabase();
    const migrations = await readMigrations(dialect);
    const ids = migrations.map((migration) => migration.id);
    expect(ids[0]).toBe('0001-learners');
    const first = await applyMigrations(db, migrations, () => new Date('2025-03-01T10:00:00.000Z'));
    expect(first).toEqual({ applied: ids, unknown: [] });
    expect(await tables(db)).toEqual(expect.arrayContaining(['learners', 'lesson_progress', 'schema_migrations', 'sessions']));
    expect(await db.all(migrationRow, 'SELECT id, checksum, applied_at FROM schema_migrations ORDER BY id')).toEqual(
      migrations.map((migration) => ({ id: migration.id, checksum: migration.checksum, applied_at: '2025-03-01T10:00:00.000Z' })),
    );

    expect(await applyMigrations(db, migrations)).toEqual({ applied: [], unknown: [] });
  });

  it('applies the migrations exactly once when several processes start at once', async () => {
    const { connect } = await freshDatabase();
    const migrations = await readMigrations(dialect);
    const reports = await Promise.all([connect(), connect(), connect()].map((db) => applyMigrations(db, migrations)));
    expect(reports.map((r) => r.applied).flat()).toEqual(migrations.map((migration) => migration.id));
    expect(await connect().all(countRow, 'SELECT COUNT(*) AS count FROM schema_migrations')).toEqual([{ count: migrations.length }]);
  });

  it('applies a newly added migration file, and only that one', async () => {
    const { db } = await freshDatabase();
    await applyMigrations(db, await readMigrations(dialect, migrationsDir));
    await writeFile(path.join(migrationsDir, '0002-lab-attempts.sql'), 'CREATE TABLE lab_attempts (id TEXT PRIMARY KEY, lab TEXT NOT NULL);');
    expect(await applyMigrations(db, await readMigrations(dialect, migrationsDir))).toEqual({ applied: ['0002-lab-attempts'], unknown: [] });
    expect(await tables(db)).toContain('lab_attempts');
  });

  it('takes the dialect file when a migration differs between databases', async () => {
    const { db } = await freshDatabase();
    await writeFile(path.join(migrationsDir, '0002-events.sqlite.sql'), 'CREATE TABLE events_sqlite (seq INTEGER PRIMARY KEY AUTOINCREMENT);');
    await writeFile(path.join(migrationsDir, '0002-events.postgres.sql'), 'CREATE TABLE events_postgres (seq BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY);');
    await applyMigrations(db, await readMigrations(dialect, migrationsDir));
    expect(await tables(db)).toContain(`events_${dialect}`);
  });

  it('rolls back every pending migration when one fails', async () => {
    const { db } = await freshDatabase();
    await writeFile(path.join(migrationsDir, '0002-broken.sql'), 'CREATE TABLE fine (id TEXT); CREATE TABLE broken (;');
    await expect(applyMigrations(db, await readMigrations(dialect, migrationsDir))).rejects.toThrow(QueryError);
    expect(await tables(db)).toEqual([]);
  });

  it('refuses to run when an applied migration was edited', async () => {
    const { db } = await freshDatabase();
    await applyMigrations(db, await readMigrations(dialect, migrationsDir));
    await writeFile(path.join(migrationsDir, '0001-learners.sql'), 'CREATE TABLE learners (id TEXT);');
    await expect(applyMigrations(db, await readMigrations(dialect, migrationsDir))).rejects.toThrow(
      'migration 0001-learners was changed after it was applied to this database; restore the file and add a new migration for the change',
    );
  });

  it('reports migrations the database has but this code does not know', async () => {
    const { db } = await freshDatabase();
    await writeFile(path.join(migrationsDir, '0002-newer.sql'), 'CREATE TABLE newer (id TEXT);');
    await applyMigrations(db, await readMigrations(dialect, migrationsDir));
    await rm(path.join(migrationsDir, '0002-newer.sql'));
    expect(await applyMigrations(db, await readMigrations(dialect, migrationsDir))).toEqual({ applied: [], unknown: ['0002-newer'] });
  });

  it('commits a transaction that resolves and rolls back one that throws', async () => {
    const { db } = await freshDatabase();
    await db.exec('CREATE TABLE notes (id TEXT PRIMARY KEY, body TEXT NOT NULL)');
    await db.transaction((tx) => tx.run('INSERT INTO notes (id, body) VALUES ($1, $2)', ['a', 'kept']));
    await expect(
      db.transaction(async (tx) => {
        await tx.run('INSERT INTO notes (id, body) VALUES ($1, $2)', ['b', 'lost']);
        throw new Error('changed my mind');
      }),
    ).rejects.toThrow('changed my mind');
    expect(await db.all(z.object({ id: z.string(), body: z.string() }), 'SELECT id, body FROM notes ORDER BY id')).toEqual([
      { id: 'a', body: 'kept' },
    ]);
  });

  it('keeps queries from other callers out of an open transaction', async () => {
    const { db } = await freshDatabase();
    await db.exec('CREATE TABLE notes (id TEXT PRIMARY KEY)');
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    const transaction = db
      .transaction(async (tx) => {
        await tx.run('INSERT INTO notes (id) VALUES ($1)', ['inside']);
        await held;
        throw new Error('roll back');
      })
      .catch(() => undefined);
    const outside = db.run('INSERT INTO notes (id) VALUES ($1)', ['outside']);
    release();
    await Promise.all([transaction, outside]);
    expect(await db.all(z.object({ id: z.string() }), 'SELECT id FROM notes')).toEqual([{ id: 'outside' }]);
  });

  it('binds $n parameters, repeated ones included, and returns changed-row counts', async () => {
    const { db } = await freshDatabase();
    await db.exec('CREATE TABLE pairs (a TEXT, b TEXT)');
    expect(await db.run('INSERT INTO pairs (a, b) VALUES ($1, $1), ($2, $1)', ['x', 'y'])).toBe(2);
    expect(await db.all(z.object({ a: z.string(), b: z.string() }), 'SELECT a, b FROM pairs ORDER BY a')).toEqual([
      { a: 'x', b: 'x' },
      { a: 'y', b: 'x' },
    ]);
    expect(await db.one(z.object({ a: z.string() }), 'SELECT a FROM pairs WHERE a = $1', ['none'])).toBeNull();
  });

  it('names the query and the column when a row has the wrong shape', async () => {
    const { db } = await freshDatabase();
    await db.exec('CREATE TABLE learners_copy (id TEXT)');
    await db.run("INSERT INTO learners_copy (id) VALUES ('l1')");
    await expect(db.all(z.object({ name: z.string() }), 'SELECT id FROM learners_copy')).rejects.toThrow(
      /row 0 does not have the expected shape: name: .* \(in: SELECT id FROM learners_copy\)/,
    );
  });

  it('answers ping while open and refuses queries once closed', async () => {
    const { db } = await freshDatabase();
    await expect(db.ping()).resolves.toBeUndefined();
    await db.close();
    await expect(db.ping()).rejects.toThrow();
  });
});

describe('readMigrations', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'formicary-migrations-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('orders migrations by name', async () => {
    await writeFile(path.join(dir, '0002-b.sql'), 'SELECT 2;');
    await writeFile(path.join(dir, '0001-a.sql'), 'SELECT 1;');
    expect((await readMigrations('sqlite', dir)).map((m) => m.id)).toEqual(['0001-a', '0002-b']);
  });

  it('rejects a file name that is not a migration name', async () => {
    await writeFile(path.join(dir, 'add users.sql'), 'SELECT 1;');
    await expect(readMigrations('sqlite', dir)).rejects.toThrow(MigrationError);
    await expect(readMigrations('sqlite', dir)).rejects.toThrow(/add users\.sql: not a migration name; use NNNN-name\.sql/);
  });

  it('rejects a dialect file without its twin', async () => {
    await writeFile(path.join(dir, '0002-events.postgres.sql'), 'SELECT 1;');
    await expect(readMigrations('sqlite', dir)).rejects.toThrow(/0002-events: 0002-events\.sqlite\.sql is missing/);
  });

  it('rejects a migration given both neutral and dialect files', async () => {
    await writeFile(path.join(dir, '0002-events.sql'), 'SELECT 1;');
    await writeFile(path.join(dir, '0002-events.sqlite.sql'), 'SELECT 1;');
    await expect(readMigrations('sqlite', dir)).rejects.toThrow(/has both 0002-events\.sql and a dialect file/);
  });
});
