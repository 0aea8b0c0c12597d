// Notifications through the database, on SQLite and PostgreSQL: what one publishes every
// subscriber hears (on PostgreSQL also through another connection, as another portal process
// would), lab sessions and checks recorded by anyone are heard as lab activity, and an ended
// subscription hears nothing more.
import { afterEach, describe, expect, it } from 'vitest';
import { applyMigrations, openDatabase, readMigrations, type Database, type Dialect } from '../../../src/server/db/index.ts';
import { LAB_ACTIVITY, openNotifications, type Notifications } from '../../../src/server/events/index.ts';
import { createSessions } from '../../../src/server/auth/index.ts';
import { createTracking, fixedOutlines } from '../../../src/server/tracking/index.ts';
import { DIALECTS, useTestDatabases } from '../../support/databases.ts';
import { captureLogs } from '../../support/logs.ts';

const databases = useTestDatabases();
const { log } = captureLogs();

async function until<T>(what: string, probe: () => T | null | undefined | false, timeoutMs = 5_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

describe.each(DIALECTS)('notifications on %s', (dialect: Dialect) => {
  const open: Array<{ db: Database; notifications: Notifications[] }> = [];

  afterEach(async () => {
    for (const { db, notifications } of open.splice(0)) {
      for (const each of notifications) await each.close();
      await db.close();
    }
  });

  async function setUp() {
    const config = await databases.fresh(dialect);
    const db = openDatabase(config, log);
    await applyMigrations(db, await readMigrations(dialect));
    // PostgreSQL: a second listener stands for another portal process on the same database.
    const notifications = [openNotifications(config, db, log), ...(dialect === 'postgres' ? [openNotifications(config, db, log)] : [])];
    open.push({ db, notifications });
    return { db, notifications };
  }

  it('delivers what is published to every subscriber, until it unsubscribes', async () => {
    const { notifications } = await setUp();
    const heard: string[][] = notifications.map(() => []);
    const stops = await Promise.all(notifications.map((each, index) => each.subscribe('workshop_changes', (payload) => heard[index]!.push(payload))));
    await notifications[0]!.publish('workshop_changes', '{"workshop":"w1"}');
    for (const index of heard.keys()) await until(`listener ${index}`, () => heard[index]!.includes('{"workshop":"w1"}'));

    for (const stop of stops) stop();
    await notifications[0]!.publish('workshop_changes', 'after');
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(heard.flat()).not.toContain('after');
    await expect(notifications[0]!.publish('Not a channel!', 'x')).rejects.toThrow('use lower-case letters, digits and _');
  });

  it('hears lab sessions opened and checks recorded, naming the learner', async () => {
    const { db, notifications } = await setUp();
    const ada = (await createSessions(db).signIn('Ada')).learner;
    const heard: string[] = [];
    await notifications.at(-1)!.subscribe(LAB_ACTIVITY, (learnerId) => heard.push(learnerId));
    const records = createTracking(db, { outlines: fixedOutlines([]) }).labs;
    const { session } = await records.open({ learnerId: ada.id, lab: 'configure', lessons: [], step: 'create', expiresAt: null });
    await until('the session opened', () => heard.includes(ada.id));
    heard.length = 0;
    await records.recordCheck(session.id, { step: 'create', results: [{ kind: 'exists', passed: false, expected: 'x', found: 'y', message: 'no' }], durationMs: 1 });
    await until('the check', () => heard.includes(ada.id));
  });

  if (dialect === 'postgres') {
    it('refuses payloads PostgreSQL would refuse', async () => {
      const { notifications } = await setUp();
      await expect(notifications[0]!.publish('workshop_changes', 'x'.repeat(8_000))).rejects.toThrow('PostgreSQL takes at most 7999');
    });
  }
});
