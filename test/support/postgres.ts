// A throwaway PostgreSQL server for one test file: initdb on a temp dir, a free port on 127.0.0.1,
// its Unix socket in the same dir, torn down (process and files) by stop(). Each test takes a
// fresh database from it with createDatabase(), so tests in the file never see each other's rows.
// With DATABASE_URL_TEST set, that server is used instead and only the test databases are made
// and dropped on it.
//
//   const postgres = await startTestPostgres();   // beforeAll
//   const url = await postgres.createDatabase();  // per test
//   await postgres.stop();                        // afterAll

import { execFile, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chown, mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';

const run = promisify(execFile);

export interface TestPostgres {
  /** The maintenance database of the server (superuser). */
  url: string;
  /** A new, empty database on the server; returns its URL. */
  createDatabase(): Promise<string>;
  stop(): Promise<void>;
}

/** The newest installed server, as Debian lays it out: /usr/lib/postgresql/<major>/bin. */
async function findServerBin(): Promise<string> {
  const root = '/usr/lib/postgresql';
  const majors = (await readdir(root).catch(() => [] as string[])).filter((v) => /^\d+$/.test(v)).sort((a, b) => Number(b) - Number(a));
  const major = majors[0];
  if (!major) {
    throw new Error(`no PostgreSQL server under ${root}; install Debian's postgresql package, or set DATABASE_URL_TEST to a server the tests may create databases on`);
  }
  return path.join(root, major, 'bin');
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

/** PostgreSQL refuses to run as root: as root, the server runs as the `postgres` user (made if missing). */
function serverUser(): { uid: number; gid: number } | null {
  if (userInfo().uid !== 0) return null;
  const id = (flag: string) => spawnSync('id', [flag, 'postgres']);
  if (id('-u').status !== 0) {
    const created = spawnSync('useradd', ['--system', '--no-create-home', '--shell', '/usr/sbin/nologin', 'postgres']);
    if (created.status !== 0) throw new Error(`could not create the postgres user: ${created.stderr.toString()}`);
  }
  return { uid: Number(id('-u').stdout.toString().trim()), gid: Number(id('-g').stdout.toString().trim()) };
}

function asServerUser(user: { uid: number } | null, command: string, args: string[]): [string, string[]] {
  return user ? ['runuser', ['-u', 'postgres', '--', command, ...args]] : [command, args];
}

async function withAdmin<T>(url: string, work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

function databaseUrl(serverUrl: string, database: string): string {
  const url = new URL(serverUrl);
  url.pathname = `/${database}`;
  return url.toString();
}

function testDatabases(serverUrl: string) {
  const made: string[] = [];
  return {
    async createDatabase(): Promise<string> {
      const name = `formicary_test_${randomBytes(6).toString('hex')}`;
      await withAdmin(serverUrl, (client) => client.query(`CREATE DATABASE ${name}`));
      made.push(name);
      return databaseUrl(serverUrl, name);
    },
    async dropAll(): Promise<void> {
      if (made.length === 0) return;
      await withAdmin(serverUrl, async (client) => {
        for (const name of made.splice(0)) await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      });
    },
  };
}

export async function startTestPostgres(env: Readonly<Record<string, string | undefined>> = process.env): Promise<TestPostgres> {
  const shared = env.DATABASE_URL_TEST;
  if (shared) {
    const databases = testDatabases(shared);
    return { url: shared, createDatabase: databases.createDatabase, stop: databases.dropAll };
  }

  const bin = await findServerBin();
  const dir = await mkdtemp(path.join(tmpdir(), 'formicary-pg-'));
  const data = path.join(dir, 'data');
  let port = 0;
  const user = serverUser();
  if (user) await chown(dir, user.uid, user.gid);

  const pgCtl = path.join(bin, 'pg_ctl');
  const stopServer = () => {
    const [command, args] = asServerUser(user, pgCtl, ['-D', data, '-m', 'immediate', '-w', 'stop']);
    return spawnSync(command, args, { stdio: 'ignore' });
  };
  // If the test process ends without afterAll, the server must not outlive it.
  const onExit = () => void stopServer();
  process.once('exit', onExit);

  try {
    const [initCommand, initArgs] = asServerUser(user, path.join(bin, 'initdb'), [
      '-D', data, '-U', 'postgres', '--auth=trust', '--encoding=UTF8', '--locale=C', '--no-sync',
    ]);
    await run(initCommand, initArgs);
    // Another test may take the free port between our probe and the server's bind: try again.
    for (let attempt = 1; ; attempt += 1) {
      port = await freePort();
      const options = [
        `-p ${port}`,
        `-k ${dir}`,
        '-c listen_addresses=127.0.0.1',
        '-c fsync=off',
        '-c synchronous_commit=off',
        '-c full_page_writes=off',
        '-c max_connections=50',
      ].join(' ');
      const logFile = path.join(dir, `server-${attempt}.log`);
      const [startCommand, startArgs] = asServerUser(user, pgCtl, ['-D', data, '-l', logFile, '-o', options, '-w', '-t', '60', 'start']);
      try {
        await run(startCommand, startArgs);
        break;
      } catch (error) {
        const log = await readFile(logFile, 'utf8').catch(() => '');
        if (attempt >= 3 || !/could not bind|Address already in use/i.test(log)) throw new Error(`${(error as Error).message}\n${log}`);
      }
    }
  } catch (error) {
    process.removeListener('exit', onExit);
    stopServer();
    await rm(dir, { recursive: true, force: true });
    throw new Error(`could not start a test PostgreSQL in ${dir}: ${(error as Error).message}`);
  }

  const url = `postgres://postgres@127.0.0.1:${port}/postgres`;
  const databases = testDatabases(url);
  return {
    url,
    createDatabase: databases.createDatabase,
    async stop() {
      process.removeListener('exit', onExit);
      stopServer();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
