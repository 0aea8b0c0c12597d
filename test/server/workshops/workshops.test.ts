// Workshops below HTTP, on SQLite and PostgreSQL: creating one, joining by code with the seat
// limit, the live grid as lab sessions and checks are recorded (by src/server/tracking, as the lab
// service records them), who looks stuck, the instructor's actions and the CSV of results.
import { afterEach, describe, expect, it } from 'vitest';
import { applyMigrations, openDatabase, readMigrations, type Database, type Dialect } from '../../../src/server/db/index.ts';
import { openNotifications, type Notifications } from '../../../src/server/events/index.ts';
import { createSessions } from '../../../src/server/auth/index.ts';
import type { Learner } from '../../../src/server/services.ts';
import { createTracking, fixedOutlines, type LabRecords } from '../../../src/server/tracking/index.ts';
import { createWorkshopInput, type InstructorEvent, type LearnerEvent, type LearnerRow } from '../../../src/contracts/index.ts';
import { createWorkshops, type WorkshopLabs, type Workshops, type WorkshopSandboxes } from '../../../src/server/workshops/index.ts';
import { DIALECTS, useTestDatabases } from '../../support/databases.ts';
import { captureLogs } from '../../support/logs.ts';

const databases = useTestDatabases();
const { log } = captureLogs();
const LAB = 'configure';
const lessons = [{ path: 'kubernetes-foundations', lesson: 'configmaps-and-secrets' }];
const passed = [{ kind: 'exists', passed: true, expected: 'a ConfigMap settings', found: 'settings', message: 'ok' }];
const failed = [{ kind: 'exists', passed: false, expected: 'a ConfigMap settings', found: 'nothing', message: 'There is no ConfigMap named settings yet' }];

async function until<T>(what: string, probe: () => T | null | undefined | false, timeoutMs = 5_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe.each(DIALECTS)('workshops on %s', (dialect: Dialect) => {
  const open: Array<{ db: Database; notifications: Notifications; workshops: Workshops }> = [];

  afterEach(async () => {
    for (const { db, notifications, workshops } of open.splice(0)) {
      await workshops.close();
      await notifications.close();
      await db.close();
    }
  });

  async function setUp(options: { now?: () => Date; sandboxes?: WorkshopSandboxes; prewarmLeadMs?: number } = {}) {
    const config = await databases.fresh(dialect);
    const db = openDatabase(config, log);
    await applyMigrations(db, await readMigrations(dialect));
    const people = createSessions(db);
    const records: LabRecords = createTracking(db, { outlines: fixedOutlines([]) }).labs;
    const resets: Array<{ learnerId: string; lab: string }> = [];
    const ended: Array<{ learnerId: string; lab: string }> = [];
    // The lab's steps as the lab service describes them; reset and end act on the recorded sessions.
    const labs: WorkshopLabs = {
      describe: async (lab) =>
        lab === LAB ? { id: LAB, title: 'Configure an app', steps: [{ id: 'create', title: 'Create the ConfigMap' }, { id: 'change', title: 'Slow it down' }] } : null,
      async reset(learnerId, lab) {
        resets.push({ learnerId, lab });
        const session = await records.current(learnerId, lab);
        if (session) await records.end(session.id, 'reset');
        await records.open({ learnerId, lab, lessons, step: 'create', expiresAt: null });
      },
      async end(learnerId, lab) {
        ended.push({ learnerId, lab });
        const session = await records.current(learnerId, lab);
        if (session) await records.end(session.id, 'ended');
      },
      async extend(learnerIds, labIds, minutes) {
        await records.extend(learnerIds, labIds, minutes);
      },
    };
    const notifications = openNotifications(config, db, log);
    const workshops = createWorkshops({ db, notifications, labs, records, log, stuckSweepMs: 50, ...options });
    open.push({ db, notifications, workshops });
    const instructor = (await people.signIn('Irene', { roles: ['instructor'] })).learner;
    const learner = async (name: string): Promise<Learner> => (await people.signIn(name)).learner;
    return { db, records, workshops, instructor, learner, resets, ended };
  }

  const draft = (overrides: Record<string, unknown> = {}) => ({
    title: 'Kubernetes day, Berlin',
    labs: [LAB],
    startsAt: new Date(Date.now() - 60_000).toISOString(),
    endsAt: new Date(Date.now() + 3 * 3_600_000).toISOString(),
    seats: 2,
    ...overrides,
  });
  // What POST /api/workshops reads from its body (readBody with this schema) before the service sees it.
  const plan = (overrides: Record<string, unknown> = {}) => createWorkshopInput.parse(draft(overrides));
  const problems = (overrides: Record<string, unknown>) =>
    createWorkshopInput.safeParse(draft(overrides)).error?.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`);

  it('creates a workshop with a join code and link, and says what is wrong with a bad one', async () => {
    const { workshops, instructor } = await setUp();
    const made = await workshops.create(instructor, plan());
    expect(made.code).toMatch(/^[A-Z2-9]{6}$/);
    expect(made.joinPath).toBe(`/workshops/join?code=${made.code}`);
    expect(made).toMatchObject({ title: 'Kubernetes day, Berlin', labs: [LAB], seats: 2, stuckMinutes: 10, stuckFailures: 3, taken: 0, endedAt: null });
    expect((await workshops.list(instructor)).map((workshop) => workshop.id)).toEqual([made.id]);
    expect(made.instructors).toEqual([{ id: instructor.id, name: 'Irene', owner: true }]);

    expect(problems({ endsAt: '2020-01-01T00:00:00Z' })).toEqual(['endsAt: must be after startsAt']);
    expect(problems({ seats: 0 })).toEqual(['seats: at least 1']);
    expect(problems({ labs: ['Not A Lab'] })).toEqual(['labs.0: lab ids are lower-case letters, digits and dashes']);
    await expect(workshops.create(instructor, plan({ labs: ['no-such-lab'] }))).rejects.toThrow('labs: there is no lab "no-such-lab"');
  });

  it('belongs to its instructors: the owner adds co-instructors, other instructors find no such workshop, admins see all', async () => {
    const { workshops, instructor, learner, db } = await setUp();
    const people = createSessions(db);
    const oscar = (await people.signIn('Oscar', { roles: ['instructor'] })).learner;
    const cora = (await people.signIn('Cora', { roles: ['instructor'] })).learner;
    const root = (await people.signIn('Root', { roles: ['admin'] })).learner;
    const ada = await learner('Ada');
    const made = await workshops.create(instructor, plan());
    await workshops.join(ada, { code: made.code });

    const missing = `there is no workshop ${made.id}`;
    for (const attempt of [
      () => workshops.get(made.id, oscar),
      () => workshops.dashboard(made.id, oscar),
      () => workshops.resultsCsv(made.id, oscar),
      () => workshops.postMessage(made.id, oscar, { message: 'hijacked' }),
      () => workshops.extend(made.id, oscar, { minutes: 60 }),
      () => workshops.resetLab(made.id, oscar, ada.id, LAB),
      () => workshops.end(made.id, oscar),
      () => workshops.watch(made.id, oscar, () => undefined),
      () => workshops.addInstructor(made.id, oscar, { instructor: 'Oscar' }),
    ]) {
      await expect(attempt()).rejects.toMatchObject({ status: 404, message: missing });
    }
    expect(await workshops.list(oscar)).toEqual([]);
    expect((await workshops.get(made.id, instructor)).message).toBeNull();
    expect((await workshops.get(made.id, instructor)).endedAt).toBeNull();

    // The owner adds Cora; she runs the workshop but does not add others. Learners are not instructors.
    await expect(workshops.addInstructor(made.id, instructor, { instructor: 'Ada' })).rejects.toThrow('instructor: Ada does not have the instructor role');
    await expect(workshops.addInstructor(made.id, instructor, { instructor: 'Nobody' })).rejects.toThrow('nobody named "Nobody" has signed in');
    const shared = await workshops.addInstructor(made.id, instructor, { instructor: ' cora ' });
    expect(shared.instructors.map((person) => [person.name, person.owner])).toEqual([['Irene', true], ['Cora', false]]);
    expect((await workshops.dashboard(made.id, cora)).rows.map((row) => row.name)).toEqual(['Ada']);
    expect((await workshops.list(cora)).map((workshop) => workshop.id)).toEqual([made.id]);
    await expect(workshops.addInstructor(made.id, cora, { instructor: 'Oscar' })).rejects.toMatchObject({ status: 403 });

    expect((await workshops.list(root)).map((workshop) => workshop.id)).toEqual([made.id]);
    expect((await workshops.end(made.id, root)).endedAt).not.toBeNull();
  });

  it('pre-warms sandboxes for each lab ahead of the start, when asked to', async () => {
    const warmed: Array<{ lab: string; count: number }> = [];
    const sandboxes: WorkshopSandboxes = { prewarm: async (lab, count) => void warmed.push({ lab, count }) };
    const { workshops, instructor } = await setUp({ sandboxes, prewarmLeadMs: 60 * 60_000 });
    await workshops.create(instructor, plan({ prewarm: 0 }));
    const soon = await workshops.create(instructor, plan({ startsAt: new Date(Date.now() + 30 * 60_000).toISOString(), prewarm: 3 }));
    await workshops.create(instructor, plan({ startsAt: new Date(Date.now() + 5 * 3_600_000).toISOString(), endsAt: new Date(Date.now() + 8 * 3_600_000).toISOString(), prewarm: 4 }));
    await until('the sandboxes of the workshop starting within the hour', () => warmed.length > 0);
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(warmed).toEqual([{ lab: LAB, count: 3 }]);
    await workshops.end(soon.id, instructor);
    expect(warmed).toEqual([{ lab: LAB, count: 3 }, { lab: LAB, count: 0 }]);
  });

  it('lets learners join by code until the seats are taken, and not after the end', async () => {
    const { workshops, instructor, learner } = await setUp();
    const made = await workshops.create(instructor, plan());
    const [ada, grace, linus] = [await learner('Ada'), await learner('Grace'), await learner('Linus')];

    expect(await workshops.join(ada, { code: made.code.toLowerCase() })).toMatchObject({ joined: true, workshop: { id: made.id, title: made.title } });
    expect((await workshops.join(ada, { code: made.code })).joined).toBe(false);
    await workshops.join(grace, { code: ` ${made.code} ` });
    await expect(workshops.join(linus, { code: made.code })).rejects.toThrow('is full: all 2 seats are taken');
    await expect(workshops.join(linus, { code: 'ZZZZZZ' })).rejects.toThrow('there is no workshop with the code ZZZZZZ');
    expect((await workshops.get(made.id, instructor)).taken).toBe(2);
    expect((await workshops.current(ada.id))?.id).toBe(made.id);

    const other = await workshops.create(instructor, plan({ seats: 5 }));
    await workshops.end(other.id, instructor);
    await expect(workshops.join(linus, { code: other.code })).rejects.toThrow('has ended');
  });

  it('shows each learner’s steps live as they start labs and run checks, with completions per step', async () => {
    const { workshops, instructor, learner, records } = await setUp();
    const made = await workshops.create(instructor, plan());
    const ada = await learner('Ada');
    await workshops.join(ada, { code: made.code });

    const events: InstructorEvent[] = [];
    const stop = await workshops.watch(made.id, instructor, (event) => events.push(event));
    const first = events[0];
    expect(first?.type).toBe('dashboard');
    if (first?.type !== 'dashboard') return;
    expect(first.dashboard.columns.map((column) => `${column.lab}/${column.step}`)).toEqual(['configure/create', 'configure/change']);
    expect(first.dashboard.rows).toMatchObject([{ name: 'Ada', cells: ['not-started', 'not-started'], current: null, stuck: null }]);

    const grace = await learner('Grace');
    await workshops.join(grace, { code: made.code });
    await until('Grace on the grid', () => events.some((event) => event.type === 'row' && event.row.name === 'Grace'));

    const rowOf = (name: string, predicate: (row: LearnerRow) => boolean) =>
      until(`${name}'s row`, () => events.findLast((event): event is Extract<InstructorEvent, { type: 'row' }> => event.type === 'row' && event.row.name === name && predicate(event.row)));

    const { session } = await records.open({ learnerId: ada.id, lab: LAB, lessons, step: 'create', expiresAt: null });
    await rowOf('Ada', (row) => row.cells[0] === 'working');
    await records.recordCheck(session.id, { step: 'create', results: failed, durationMs: 5 });
    await rowOf('Ada', (row) => row.cells[0] === 'failed' && row.current?.failuresInARow === 1);
    await records.recordCheck(session.id, { step: 'create', results: passed, durationMs: 5, nextStep: 'change' });
    const after = await rowOf('Ada', (row) => row.cells[0] === 'passed');
    expect(after.row).toMatchObject({ cells: ['passed', 'working'], current: { lab: LAB, step: 'change', failuresInARow: 0 }, passedSteps: 1 });
    expect(after.completions).toEqual([1, 0]);
    stop();

    const dashboard = await workshops.dashboard(made.id, instructor);
    expect(dashboard.completions).toEqual([1, 0]);
    expect(dashboard.rows.map((row) => row.name)).toEqual(['Ada', 'Grace']);
  });

  it('marks learners stuck after K failed checks in a row, or N minutes without progress', async () => {
    let clock = new Date();
    const { workshops, instructor, learner, records } = await setUp({ now: () => clock });
    const made = await workshops.create(instructor, plan({ stuckMinutes: 5, stuckFailures: 2 }));
    const [ada, grace] = [await learner('Ada'), await learner('Grace')];
    await workshops.join(ada, { code: made.code });
    await workshops.join(grace, { code: made.code });
    const { session } = await records.open({ learnerId: ada.id, lab: LAB, lessons, step: 'create', expiresAt: null });
    await records.recordCheck(session.id, { step: 'create', results: failed, durationMs: 5 });
    await records.recordCheck(session.id, { step: 'create', results: failed, durationMs: 5 });
    await records.open({ learnerId: grace.id, lab: LAB, lessons, step: 'create', expiresAt: null });

    const stuck = async () => Object.fromEntries((await workshops.dashboard(made.id, instructor)).rows.map((row) => [row.name, row.stuck]));
    expect(await stuck()).toEqual({ Ada: 'failing', Grace: null });

    const events: InstructorEvent[] = [];
    const stop = await workshops.watch(made.id, instructor, (event) => events.push(event));
    clock = new Date(clock.getTime() + 6 * 60_000);
    await until('Grace stuck without progress', () => events.some((event) => event.type === 'row' && event.row.name === 'Grace' && event.row.stuck === 'no-progress'));
    stop();
    expect(await stuck()).toEqual({ Ada: 'failing', Grace: 'no-progress' });
  });

  it('tells learners the instructor’s message, extended time and the end; ending ends their labs', async () => {
    const { workshops, instructor, learner, records, resets, ended } = await setUp();
    const made = await workshops.create(instructor, plan());
    const [ada, grace] = [await learner('Ada'), await learner('Grace')];
    await workshops.join(ada, { code: made.code });
    await workshops.join(grace, { code: made.code });
    await records.open({ learnerId: ada.id, lab: LAB, lessons, step: 'create', expiresAt: null });

    const heard: LearnerEvent[] = [];
    const stop = await workshops.follow(grace.id, (event) => heard.push(event));
    expect(heard[0]).toMatchObject({ type: 'workshop', workshop: { id: made.id, message: null } });

    await workshops.postMessage(made.id, instructor, { message: 'Break until 11:00, then lab 2' });
    await until('the message', () => heard.some((event) => event.type === 'message' && event.message === 'Break until 11:00, then lab 2'));

    await workshops.extend(made.id, instructor, { minutes: 15, learnerId: grace.id });
    const mine = await until('Grace’s extra time', () =>
      heard.findLast((event): event is Extract<LearnerEvent, { type: 'workshop' }> => event.type === 'workshop' && event.workshop.endsAt !== made.endsAt),
    );
    expect(Date.parse(mine.workshop.endsAt) - Date.parse(made.endsAt)).toBe(15 * 60_000);
    const all = await workshops.extend(made.id, instructor, { minutes: 30 });
    expect(Date.parse(all.endsAt) - Date.parse(made.endsAt)).toBe(30 * 60_000);
    
    await workshops.resetLab(made.id, instructor, ada.id, LAB);
    expect(resets).toEqual([{ learnerId: ada.id, lab: LAB }]);
    await expect(workshops.resetLab(made.id, instructor, ada.id, 'other-lab')).rejects.toThrow('is not a lab of this workshop');

    const over = await workshops.end(made.id, instructor);
    expect(over.endedAt).not.toBeNull();
    expect(ended).toEqual(expect.arrayContaining([{ learnerId: ada.id, lab: LAB }, { learnerId: grace.id, lab: LAB }]));
    expect(await records.current(ada.id, LAB)).toBeNull();
    await until('the end', () => heard.some((event) => event.type === 'workshop' && event.workshop.endedAt !== null));
    expect(await workshops.current(grace.id)).toBeNull();
    stop();
  });

  it('exports results as RFC 4180 CSV', async () => {
    const { workshops, instructor, learner, records } = await setUp();
    const made = await workshops.create(instructor, plan());
    const odd = await learner('O"Brien, Pat');
    await workshops.join(odd, { code: made.code });
    const { session } = await records.open({ learnerId: odd.id, lab: LAB, lessons, step: 'create', expiresAt: null });
    await records.recordCheck(session.id, { step: 'create', results: passed, durationMs: 5, nextStep: 'change' });

    const csv = await workshops.resultsCsv(made.id, instructor);
    const lines = csv.split('\r\n');
    expect(lines[0]).toBe('learner,joined_at,configure/create,configure/change,steps_passed,steps_total,current_step,stuck');
    expect(lines[1]).toMatch(/^"O""Brien, Pat",\d{4}-\d\d-\d\dT[\d:.]+Z,passed,working,1,2,configure\/change,$/);
    expect(lines[2]).toBe('');
    expect(csv.endsWith('\r\n')).toBe(true);
  });
});
