import { afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { applyMigrations, openDatabase, readMigrations, type Database } from '../../../src/server/db/index.ts';
import { createSessions } from '../../../src/server/auth/index.ts';
import type { ProviderIdentity } from '../../../src/server/auth/index.ts';
import { DIALECTS, useTestDatabases } from '../../support/databases.ts';
import { captureLogs } from '../../support/logs.ts';

// Who a learner is beyond a name: roles (dev sign-in), identity at the provider with email and
// groups (AUTH=oidc), and sessions that end when the browser signs in again.

const databases = useTestDatabases();
const { log } = captureLogs();

const ada: ProviderIdentity = {
  issuer: 'https://login.example.com',
  subject: '00u1ada',
  name: 'Ada Lovelace',
  email: 'ada@example.com',
  groups: ['engineering', 'trainers'],
  roles: ['instructor'],
  idToken: 'header.payload.signature',
};

describe.each(DIALECTS)('learner identity on %s', (dialect) => {
  const open: Database[] = [];

  async function migrated(): Promise<Database> {
    const db = openDatabase(await databases.fresh(dialect), log);
    open.push(db);
    await applyMigrations(db, await readMigrations(dialect));
    return db;
  }

  afterEach(async () => {
    await Promise.all(open.splice(0).map((db) => db.close()));
  });

  it('gives a dev learner the roles chosen at this sign-in, and takes them away at the next', async () => {
    const sessions = createSessions(await migrated());
    const asInstructor = await sessions.signIn('Grace', { roles: ['instructor'] });
    expect(asInstructor.learner).toEqual({ id: expect.any(String), name: 'Grace', email: null, groups: [], roles: ['instructor'] });
    const plain = await sessions.signIn('grace');
    expect(plain.learner.roles).toEqual([]);
    expect((await sessions.resolve(asInstructor.token))?.roles).toEqual([]);
  });

  it('finds a provider learner by issuer and subject, with name, email, groups and roles as the provider says now', async () => {
    const sessions = createSessions(await migrated());
    const first = await sessions.signInWithProvider(ada);
    expect(first.learner).toEqual({ id: expect.any(String), name: 'Ada Lovelace', email: 'ada@example.com', groups: ['engineering', 'trainers'], roles: ['instructor'] });
    const renamed = await sessions.signInWithProvider({ ...ada, name: 'Ada King', email: 'ada.king@example.com', groups: ['learning-ops'], roles: ['admin'] });
    expect(renamed.learner).toEqual({ id: first.learner.id, name: 'Ada King', email: 'ada.king@example.com', groups: ['learning-ops'], roles: ['admin'] });
    expect(await sessions.resolve(first.token)).toEqual(renamed.learner);
  });

  it('keeps people apart who share a name, and keeps provider learners apart from dev learners', async () => {
    const sessions = createSessions(await migrated());
    const one = await sessions.signInWithProvider(ada);
    const namesake = await sessions.signInWithProvider({ ...ada, subject: '00u2ada', email: 'ada.2@example.com' });
    const otherIssuer = await sessions.signInWithProvider({ ...ada, issuer: 'https://other.example.com' });
    const dev = await sessions.signIn('Ada Lovelace');
    expect(new Set([one, namesake, otherIssuer, dev].map((signedIn) => signedIn.learner.id)).size).toBe(4);
  });

  it('makes one learner when the same identity signs in twice at once', async () => {
    const db = await migrated();
    const sessions = createSessions(db);
    const results = await Promise.all([sessions.signInWithProvider(ada), sessions.signInWithProvider(ada)]);
    expect(results[0].learner.id).toBe(results[1].learner.id);
    expect(await db.all(z.object({ n: z.coerce.number() }), 'SELECT COUNT(*) AS n FROM learners')).toEqual([{ n: 1 }]);
  });

  it('ends the session a sign-in replaces, and only that one', async () => {
    const sessions = createSessions(await migrated());
    const laptop = await sessions.signIn('Ada');
    const phone = await sessions.signIn('Ada');
    const again = await sessions.signIn('Ada', { replacing: laptop.token });
    expect(await sessions.resolve(laptop.token)).toBeNull();
    expect(await sessions.resolve(phone.token)).not.toBeNull();
    expect(await sessions.resolve(again.token)).not.toBeNull();
    const provider = await sessions.signInWithProvider(ada, { replacing: again.token });
    expect(await sessions.resolve(again.token)).toBeNull();
    expect(await sessions.resolve(provider.token)).not.toBeNull();
  });

  it('gives back the ID token when the session ends, for signing out at the provider', async () => {
    const sessions = createSessions(await migrated());
    const { token } = await sessions.signInWithProvider(ada);
    expect(await sessions.signOut(token)).toEqual({ idToken: 'header.payload.signature' });
    expect(await sessions.signOut(token)).toBeNull();
    const dev = await sessions.signIn('Grace');
    expect(await sessions.signOut(dev.token)).toEqual({ idToken: null });
  });

  it('grants nothing for a role this version does not know', async () => {
    const db = await migrated();
    const sessions = createSessions(db);
    const { token, learner } = await sessions.signIn('Grace', { roles: ['admin'] });
    await db.run('UPDATE learners SET roles = $1 WHERE id = $2', ['["admin","auditor"]', learner.id]);
    expect((await sessions.resolve(token))?.roles).toEqual(['admin']);
  });
});
