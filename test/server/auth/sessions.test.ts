import { afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { applyMigrations, openDatabase, readMigrations, type Database } from '../../../src/server/db/index.ts';
import { createSessions, LearnerInputError, SESSION_LIFETIME_MS } from '../../../src/server/auth/index.ts';
import { createTracking, fixedOutlines } from '../../../src/server/tracking/index.ts';
import { DIALECTS, useTestDatabases } from '../../support/databases.ts';
import { captureLogs } from '../../support/logs.ts';

const databases = useTestDatabases();
const { log } = captureLogs();

describe.each(DIALECTS)('learners on %s', (dialect) => {
  const open: Database[] = [];
  let clock = new Date('2025-03-01T09:00:00.000Z');
  const now = () => clock;

  async function migrated(): Promise<Database> {
    const db = openDatabase(await databases.fresh(dialect), log);
    open.push(db);
    await applyMigrations(db, await readMigrations(dialect));
    return db;
  }

  afterEach(async () => {
    await Promise.all(open.splice(0).map((db) => db.close()));
    clock = new Date('2025-03-01T09:00:00.000Z');
  });

  describe('sessions', () => {
    it('signs a new learner in by name and resolves the token to them', async () => {
      const sessions = createSessions(await migrated(), now);
      const { token, learner } = await sessions.signIn('  Ada   Lovelace ');
      expect(learner.name).toBe('Ada Lovelace');
      expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/);
      expect(await sessions.resolve(token)).toEqual(learner);
    });

    it('finds the same learner again by name, whatever the case and spacing', async () => {
      const sessions = createSessions(await migrated(), now);
      const first = await sessions.signIn('Grace Hopper');
      const second = await sessions.signIn('grace  hopper');
      expect(second.learner.id).toBe(first.learner.id);
      expect(second.learner.name).toBe('Grace Hopper');
      expect(second.token).not.toBe(first.token);
      expect(await sessions.resolve(first.token)).toEqual(first.learner);
    });

    it('makes one learner when the same name signs in twice at once', async () => {
      const db = await migrated();
      const sessions = createSessions(db, now);
      const results = await Promise.all([sessions.signIn('Linus'), sessions.signIn('linus'), sessions.signIn('LINUS')]);
      expect(new Set(results.map((r) => r.learner.id)).size).toBe(1);
      expect(await db.all(z.object({ n: z.coerce.number() }), 'SELECT COUNT(*) AS n FROM learners')).toEqual([{ n: 1 }]);
    });

    it('keeps only a SHA-256 of the token', async () => {
      const db = await migrated();
      const { token } = await createSessions(db, now).signIn('Ada');
      const stored = await db.all(z.object({ token_hash: z.string() }), 'SELECT token_hash FROM sessions');
      expect(stored).toHaveLength(1);
      expect(stored[0]?.token_hash).toMatch(/^[0-9a-f]{64}$/);
      expect(stored[0]?.token_hash).not.toContain(token);
    });

    it('expires a session after 30 days', async () => {
      const sessions = createSessions(await migrated(), now);
      const { token, learner } = await sessions.signIn('Ada');
      clock = new Date(clock.getTime() + SESSION_LIFETIME_MS - 1000);
      expect(await sessions.resolve(token)).toEqual(learner);
      clock = new Date(clock.getTime() + 1000);
      expect(await sessions.resolve(token)).toBeNull();
    });

    it('forgets a token on sign-out and leaves the learner’s other sessions alone', async () => {
      const sessions = createSessions(await migrated(), now);
      const laptop = await sessions.signIn('Ada');
      const phone = await sessions.signIn('Ada');
      await sessions.signOut(laptop.token);
      expect(await sessions.resolve(laptop.token)).toBeNull();
      expect(await sessions.resolve(phone.token)).toEqual(phone.learner);
    });

    it('resolves unknown and malformed tokens to nobody', async () => {
      const sessions = createSessions(await migrated(), now);
      expect(await sessions.resolve('A'.repeat(43))).toBeNull();
      expect(await sessions.resolve("' OR 1=1 --")).toBeNull();
      expect(await sessions.resolve('')).toBeNull();
    });

    it.each([
      ['', 'name: is empty; sign in with the name other learners know you by'],
      ['   ', 'name: is empty; sign in with the name other learners know you by'],
      ['x'.repeat(81), 'name: is longer than 80 characters'],
      ['Ada\u0007', 'name: contains control characters'],
    ])('refuses the name %j', async (name, message) => {
      const sessions = createSessions(await migrated(), now);
      const attempt = sessions.signIn(name);
      await expect(attempt).rejects.toBeInstanceOf(LearnerInputError);
      await expect(attempt).rejects.toThrow(message);
    });
  });

  describe('progress', () => {
    async function learnerWithProgress() {
      const db = await migrated();
      const { learner } = await createSessions(db, now).signIn('Ada');
      return { db, learner, progress: createTracking(db, { outlines: fixedOutlines([]), now }).lessons };
    }

    it('starts empty', async () => {
      const { learner, progress } = await learnerWithProgress();
      expect(await progress.forLearner(learner.id)).toEqual([]);
    });

    it('records the first view and keeps it on later views', async () => {
      const { learner, progress } = await learnerWithProgress();
      await progress.markViewed(learner.id, 'kubernetes-foundations', '02-pods');
      clock = new Date('2025-03-02T09:00:00.000Z');
      await progress.markViewed(learner.id, 'kubernetes-foundations', '02-pods');
      expect(await progress.forLearner(learner.id)).toEqual([
        { path: 'kubernetes-foundations', lesson: '02-pods', viewedAt: '2025-03-01T09:00:00.000Z', completedAt: null },
      ]);
    });

    it('records completion, counting it as a view when the lesson was never opened', async () => {
      const { learner, progress } = await learnerWithProgress();
      await progress.markViewed(learner.id, 'kubernetes-foundations', '01-clusters');
      clock = new Date('2025-03-01T10:00:00.000Z');
      await progress.markCompleted(learner.id, 'kubernetes-foundations', '01-clusters');
      await progress.markCompleted(learner.id, 'kubernetes-foundations', '03-deployments');
      clock = new Date('2025-03-05T10:00:00.000Z');
      await progress.markCompleted(learner.id, 'kubernetes-foundations', '01-clusters');
      expect(await progress.forLearner(learner.id)).toEqual([
        {
          path: 'kubernetes-foundations',
          lesson: '01-clusters',
          viewedAt: '2025-03-01T09:00:00.000Z',
          completedAt: '2025-03-01T10:00:00.000Z',
        },
        {
          path: 'kubernetes-foundations',
          lesson: '03-deployments',
          viewedAt: '2025-03-01T10:00:00.000Z',
          completedAt: '2025-03-01T10:00:00.000Z',
        },
      ]);
    });

    it('keeps each learner’s progress to themselves', async () => {
      const { db, learner, progress } = await learnerWithProgress();
      const other = (await createSessions(db, now).signIn('Grace')).learner;
      await progress.markCompleted(learner.id, 'kubernetes-foundations', '02-pods');
      expect(await progress.forLearner(other.id)).toEqual([]);
      expect(await progress.forLearner(learner.id)).toHaveLength(1);
    });

    it('refuses path and lesson names that are not slugs', async () => {
      const { learner, progress } = await learnerWithProgress();
      await expect(progress.markViewed(learner.id, '../etc', '01-x')).rejects.toThrow(
        'path: "../etc" is not a slug (lower-case letters, digits and dashes, up to 100)',
      );
      await expect(progress.markCompleted(learner.id, 'kubernetes-foundations', 'Pods!')).rejects.toThrow(/^lesson: "Pods!" is not a slug/);
    });
  });
});
