// Fresh, empty databases of either kind for one test file: SQLite files in a temp dir, and
// databases on one throwaway PostgreSQL server (test/support/postgres.ts) started on first use
// and stopped after the file's tests.
//
//   const databases = useTestDatabases();                       // at the top of a test file
//   describe.each(DIALECTS)('on %s', (dialect) => { ... await databases.fresh(dialect) ... });

import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll } from 'vitest';
import type { DatabaseConfig } from '../../src/server/config.ts';
import type { Dialect } from '../../src/server/db/index.ts';
import { startTestPostgres, type TestPostgres } from './postgres.ts';

export const DIALECTS: readonly Dialect[] = ['sqlite', 'postgres'];

export interface TestDatabases {
  fresh(dialect: Dialect): Promise<DatabaseConfig>;
}

export function useTestDatabases(): TestDatabases {
  let postgres: Promise<TestPostgres> | null = null;
  let sqliteDir: Promise<string> | null = null;
  let count = 0;

  afterAll(async () => {
    const [server, dir] = await Promise.all([postgres, sqliteDir]);
    await server?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  return {
    async fresh(dialect) {
      if (dialect === 'postgres') {
        postgres ??= startTestPostgres();
        return { kind: 'postgres', url: await (await postgres).createDatabase() };
      }
      sqliteDir ??= mkdtemp(path.join(tmpdir(), 'formicary-sqlite-'));
      count += 1;
      return { kind: 'sqlite', file: path.join(await sqliteDir, `test-${count}.db`) };
    },
  };
}
