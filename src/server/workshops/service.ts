// Workshops: an instructor makes one, learners join with its code, the instructor follows the room
// on a live dashboard and acts on it (reset a learner's lab, extend time, post a message, end).
// Everything is kept in the database and every change is published (src/server/events), so any
// portal replica can serve any request and every replica's streams hear of every change.

import { z } from 'zod';
import { LAB_ACTIVITY, type Notifications } from '../events/index.ts';
import type { Logger } from '../log.ts';
import type { Learner } from '../../contracts/index.ts';
import { resultsCsv } from './csv.ts';
import { completions, learnerRow, stuckReason } from './grid.ts';
import type {
  AddInstructorInput,
  CreateWorkshopInput,
  Dashboard,
  ExtendInput,
  GridColumn,
  InstructorEvent,
  JoinInput,
  LearnerEvent,
  LearnerRow,
  LearnerWorkshopView,
  MessageInput,
  Workshop,
  WorkshopView,
} from '../../contracts/index.ts';
import { WorkshopError, type Seat } from './model.ts';
import { normalizeCode, workshopStore, type WorkshopStore } from './store.ts';
import type { Database } from '../db/index.ts';
import type { LabRecords } from '../tracking/index.ts';

/** Workshop changes, between replicas: `{"workshop": id, "change": …}`. */
export const WORKSHOP_CHANGES = 'workshop_changes';

const change = z.object({
  workshop: z.string(),
  change: z.enum(['joined', 'message', 'extended', 'ended', 'reset', 'viewing']),
  learnerId: z.string().optional(),
  viewing: z.boolean().optional(),
});
type Change = z.infer<typeof change>;

/** What workshops need of labs: their steps, resetting or ending a learner's session, and more time for open sessions. */
export interface WorkshopLabs {
  describe(lab: string): Promise<{ id: string; title: string; steps: Array<{ id: string; title: string }> } | null>;
  reset(learnerId: string, lab: string): Promise<void>;
  end(learnerId: string, lab: string): Promise<void>;
  extend(learnerIds: readonly string[], labs: readonly string[], minutes: number): Promise<void>;
}

/** What the dashboard reads of the learners' lab sessions (src/server/tracking): their activity, and a learner's open session. */
export type WorkshopLabRecords = Pick<LabRecords, 'activity' | 'current'>;

/** Sandboxes made ready before a workshop starts (the warm pool); absent where the portal has no lab cluster. */
export interface WorkshopSandboxes {
  /** Keeps `count` warm sandboxes of the lab ready; 0 gives them back. */
  prewarm(lab: string, count: number): Promise<void>;
}

export interface WorkshopsOptions {
  db: Database;
  notifications: Notifications;
  labs: WorkshopLabs;
  records: WorkshopLabRecords;
  sandboxes?: WorkshopSandboxes;
  log: Logger;
  now?: () => Date;
  /** How often stuck learners are looked for without news; default 15 s. */
  stuckSweepMs?: number;
  /** How long before the start sandboxes are pre-warmed; default 15 minutes. */
  prewarmLeadMs?: number;
}

/**
 * Who asks, for everything an instructor does: a workshop is run by its owner (who created it) and
 * the co-instructors the owner added; admins run every workshop. Anyone else is told there is no
 * such workshop (404), so workshop ids do not leak.
 */
export type Instructor = Pick<Learner, 'id' | 'name' | 'roles'>;

export interface Workshops {
  create(instructor: Instructor, input: CreateWorkshopInput): Promise<WorkshopView>;
  /** The workshops the instructor runs (every workshop for an admin). */
  list(instructor: Instructor): Promise<WorkshopView[]>;
  get(id: string, instructor: Instructor): Promise<WorkshopView>;
  /** Only the owner adds co-instructors; they must hold the instructor (or admin) role. */
  addInstructor(id: string, instructor: Instructor, input: AddInstructorInput): Promise<WorkshopView>;
  join(learner: Learner, input: JoinInput): Promise<{ workshop: LearnerWorkshopView; joined: boolean }>;
  /** The workshop the learner is in now, if any. */
  current(learnerId: string): Promise<LearnerWorkshopView | null>;
  dashboard(id: string, instructor: Instructor): Promise<Dashboard>;
  resultsCsv(id: string, instructor: Instructor): Promise<string>;
  postMessage(id: string, instructor: Instructor, input: MessageInput): Promise<WorkshopView>;
  extend(id: string, instructor: Instructor, input: ExtendInput): Promise<WorkshopView>;
  resetLab(id: string, instructor: Instructor, learnerId: string, lab: string): Promise<void>;
  /** Ends the workshop and every learner's session of its labs (their sandboxes are removed). */
  end(id: string, instructor: Instructor): Promise<WorkshopView>;
  /** Tells the learner whether the instructor is viewing their terminal (the notice in their lab). */
  setViewing(id: string, learnerId: string, viewing: boolean): Promise<void>;
  /** The seat of the learner in the workshop, or a 404. */
  seat(id: string, learnerId: string): Promise<Seat>;
  /** The instructor's live dashboard: the whole of it first, then what changes. */
  watch(id: string, instructor: Instructor, onEvent: (event: InstructorEvent) => void): Promise<() => void>;
  /** A learner's live view of their workshop: banner messages, time, the end, the instructor viewing. */
  follow(learnerId: string, onEvent: (event: LearnerEvent) => void): Promise<() => void>;
  close(): Promise<void>;
}

interface Watch {
  workshop: Workshop;
  columns: GridColumn[];
  rows: Map<string, LearnerRow>;
  listeners: Set<(event: InstructorEvent) => void>;
  pending: Map<string, { again: boolean }>;
  ready: Promise<void>;
}

const DEFAULT_STUCK_SWEEP_MS = 15_000;
const DEFAULT_PREWARM_LEAD_MS = 15 * 60_000;

export function joinPath(workshop: Workshop): string {
  return `/workshops/join?code=${encodeURIComponent(workshop.code)}`;
}

function learnerView(workshop: Workshop, seat: Seat | null): LearnerWorkshopView {
  const extra = seat?.extraMinutes ?? 0;
  return {
    id: workshop.id,
    title: workshop.title,
    labs: workshop.labs,
    paths: workshop.paths,
    startsAt: workshop.startsAt,
    endsAt: new Date(Date.parse(workshop.endsAt) + extra * 60_000).toISOString(),
    message: workshop.message,
    messageAt: workshop.messageAt,
    endedAt: workshop.endedAt,
  };
}

export function createWorkshops(options: WorkshopsOptions): Workshops {
  const { notifications, labs, log } = options;
  const store: WorkshopStore = workshopStore(options.db);
  const now = options.now ?? (() => new Date());
  const watches = new Map<string, Watch>();
  const followers = new Map<string, Set<(event: LearnerEvent) => void>>();
  const unsubscribes: Array<() => void> = [];
  let subscribed: Promise<void> | null = null;
  const prewarmTimers = new Set<NodeJS.Timeout>();

  const existing = async (id: string): Promise<Workshop> => {
    const workshop = await store.get(id);
    if (!workshop) throw new WorkshopError(404, `there is no workshop ${id}`);
    return workshop;
  };
  /** The workshop, when `instructor` runs it; the same 404 as for no workshop otherwise. */
  const runBy = async (id: string, instructor: Instructor): Promise<Workshop> => {
    const workshop = await store.get(id);
    const runs =
      workshop !== null && (workshop.instructorId === instructor.id || instructor.roles.includes('admin') || (await store.isCoInstructor(workshop.id, instructor.id)));
    if (!runs) throw new WorkshopError(404, `there is no workshop ${id}`);
    return workshop;
  };
  const view = async (workshop: Workshop): Promise<WorkshopView> => ({
    ...workshop,
    joinPath: joinPath(workshop),
    taken: await store.taken(workshop.id),
    instructors: await store.instructors(workshop),
  });
  const publish = (payload: Change) =>
    notifications.publish(WORKSHOP_CHANGES, JSON.stringify(payload)).catch((error: unknown) => log.warn({ err: error, workshop: payload.workshop }, 'could not publish a workshop change'));

  const columnsOf = async (workshop: Workshop): Promise<GridColumn[]> => {
    const columns: GridColumn[] = [];
    for (const id of workshop.labs) {
      const lab = await labs.describe(id);
      if (!lab) continue;
      for (const step of lab.steps) columns.push({ lab: lab.id, labTitle: lab.title, step: step.id, title: step.title });
    }
    return columns;
  };

  const rowsOf = async (workshop: Workshop, columns: GridColumn[], learnerId?: string): Promise<LearnerRow[]> => {
    const seats = await store.seats(workshop.id, learnerId);
    const activity = await options.records.activity(
      seats.map((seat) => ({ learnerId: seat.learnerId, since: seat.joinedAt })),
      workshop.labs,
    );
    const at = now();
    return seats.map((seat) => learnerRow(workshop, columns, seat, activity.sessions, activity.checks, at));
  };

  const dashboardOf = async (workshop: Workshop, columns?: GridColumn[]): Promise<Dashboard> => {
    const cols = columns ?? (await columnsOf(workshop));
    const rows = await rowsOf(workshop, cols);
    return { workshop: await view(workshop), columns: cols, rows, completions: completions(cols, rows), at: now().toISOString() };
  };

  const emit = (watch: Watch, event: InstructorEvent) => {
    for (const listener of watch.listeners) listener(event);
  };

  /** Recomputes one learner's row; changes arriving meanwhile run it once more. */
  const refreshRow = (watch: Watch, learnerId: string) => {
    const pending = watch.pending.get(learnerId);
    if (pending) {
      pending.again = true;
      return;
    }
    const state = { again: true };
    watch.pending.set(learnerId, state);
    void (async () => {
      try {
        await watch.ready;
        while (state.again) {
          state.again = false;
          const [row] = await rowsOf(watch.workshop, watch.columns, learnerId);
          if (!row) continue;
          watch.rows.set(learnerId, row);
          emit(watch, { type: 'row', row, completions: completions(watch.columns, watch.rows.values()) });
        }
      } catch (error) {
        log.warn({ err: error, workshop: watch.workshop.id, learner: learnerId }, 'could not refresh a learner on the dashboard');
      } finally {
        watch.pending.delete(learnerId);
      }
    })();
  };

  const reloadWatch = async (watch: Watch) => {
    const workshop = await store.get(watch.workshop.id);
    if (!workshop) return;
    watch.workshop = workshop;
    const dashboard = await dashboardOf(workshop, watch.columns);
    watch.rows = new Map(dashboard.rows.map((row) => [row.learnerId, row]));
    emit(watch, { type: 'dashboard', dashboard });
  };

  const toFollowers = async (message: Change) => {
    const workshop = await store.get(message.workshop);
    if (!workshop) return;
    const seats = message.learnerId ? await store.seats(workshop.id, message.learnerId) : await store.seats(workshop.id);
    for (const seat of seats) {
      const listeners = followers.get(seat.learnerId);
      if (!listeners) continue;
      const events: LearnerEvent[] =
        message.change === 'viewing'
          ? [{ type: 'viewing', viewing: message.viewing === true }]
          : message.change === 'message'
            ? [{ type: 'message', message: workshop.message, at: workshop.messageAt }]
            : [{ type: 'workshop', workshop: learnerView(workshop, seat) }];
      for (const event of events) for (const listener of listeners) listener(event);
    }
  };

  const onChange = (payload: string) => {
    let message: Change;
    try {
      message = change.parse(JSON.parse(payload));
    } catch {
      log.warn({ payload: payload.slice(0, 200) }, 'ignored a workshop change that is not one');
      return;
    }
    const watch = watches.get(message.workshop);
    if (watch) {
      if (message.change === 'joined' && message.learnerId) refreshRow(watch, message.learnerId);
      else if (message.change !== 'viewing' && message.change !== 'reset') void reloadWatch(watch).catch((error: unknown) => log.warn({ err: error, workshop: message.workshop }, 'could not reload the dashboard'));
    }
    if (followers.size > 0) void toFollowers(message).catch((error: unknown) => log.warn({ err: error, workshop: message.workshop }, 'could not tell learners of a workshop change'));
  };

  const onLabActivity = (learnerId: string) => {
    for (const watch of watches.values()) if (watch.rows.has(learnerId)) refreshRow(watch, learnerId);
  };

  const subscribe = () => {
    subscribed ??= (async () => {
      unsubscribes.push(await notifications.subscribe(WORKSHOP_CHANGES, onChange));
      unsubscribes.push(await notifications.subscribe(LAB_ACTIVITY, onLabActivity));
    })().catch((error: unknown) => {
      subscribed = null;
      throw error;
    });
    return subscribed;
  };

  // Time alone makes learners stuck: look again now and then, and send the rows that changed.
  const sweep = setInterval(() => {
    const at = now();
    for (const watch of watches.values()) {
      for (const row of watch.rows.values()) {
        const stuck = stuckReason(watch.workshop, row.passedSteps === watch.columns.length && watch.columns.length > 0, row.current, row.lastProgressAt, at);
        if (stuck === row.stuck) continue;
        const updated = { ...row, stuck };
        watch.rows.set(row.learnerId, updated);
        emit(watch, { type: 'row', row: updated, completions: completions(watch.columns, watch.rows.values()) });
      }
    }
  }, options.stuckSweepMs ?? DEFAULT_STUCK_SWEEP_MS);
  sweep.unref();

  const schedulePrewarm = (workshop: Workshop) => {
    const sandboxes = options.sandboxes;
    if (!sandboxes || workshop.prewarm === 0 || workshop.labs.length === 0) return;
    const delay = Math.max(0, Date.parse(workshop.startsAt) - (options.prewarmLeadMs ?? DEFAULT_PREWARM_LEAD_MS) - now().getTime());
    // Timers past ~24 days overflow; a workshop that far ahead is pre-warmed by a later process start.
    if (delay > 2 ** 31 - 1) return;
    const timer = setTimeout(() => {
      prewarmTimers.delete(timer);
      for (const lab of workshop.labs) {
        sandboxes.prewarm(lab, workshop.prewarm).catch((error: unknown) => log.warn({ err: error, workshop: workshop.id, lab }, 'could not pre-warm sandboxes'));
      }
    }, delay);
    timer.unref();
    prewarmTimers.add(timer);
  };

  return {
    async create(instructor, wanted) {
      for (const lab of wanted.labs) {
        if (!(await labs.describe(lab))) throw new WorkshopError(400, `labs: there is no lab "${lab}"`);
      }
      const workshop = await store.create({
        title: wanted.title,
        instructorId: instructor.id,
        labs: wanted.labs,
        paths: wanted.paths,
        startsAt: new Date(wanted.startsAt).toISOString(),
        endsAt: new Date(wanted.endsAt).toISOString(),
        seats: wanted.seats,
        stuckMinutes: wanted.stuckMinutes,
        stuckFailures: wanted.stuckFailures,
        prewarm: wanted.prewarm,
        createdAt: now().toISOString(),
      });
      log.info({ workshop: workshop.id, code: workshop.code, instructor: instructor.id }, 'workshop created');
      schedulePrewarm(workshop);
      return view(workshop);
    },

    async list(instructor) {
      return Promise.all((await store.list(instructor.roles.includes('admin') ? null : instructor.id)).map(view));
    },

    async get(id, instructor) {
      return view(await runBy(id, instructor));
    },

    async addInstructor(id, instructor, { instructor: wanted }) {
      const workshop = await runBy(id, instructor);
      if (workshop.instructorId !== instructor.id && !instructor.roles.includes('admin')) {
        throw new WorkshopError(403, 'only the instructor who created the workshop adds instructors to it');
      }
      const found = await store.findLearner(wanted);
      if (!found) throw new WorkshopError(400, `instructor: nobody named ${JSON.stringify(wanted)} has signed in to the portal yet; they sign in once, then you add them`);
      if (!found.roles.includes('instructor') && !found.roles.includes('admin')) {
        throw new WorkshopError(400, `instructor: ${found.name} does not have the instructor role`);
      }
      if (found.id !== workshop.instructorId && (await store.addInstructor(id, found.id, now().toISOString()))) {
        log.info({ workshop: id, instructor: found.id, by: instructor.id }, 'co-instructor added');
      }
      return view(workshop);
    },

    async join(learner, { code }) {
      const workshop = await store.byCode(code);
      if (!workshop) throw new WorkshopError(404, `there is no workshop with the code ${normalizeCode(code)}; check the code with your instructor`);
      const { joined } = await store.join(workshop.id, learner.id, now().toISOString());
      if (joined) await publish({ workshop: workshop.id, change: 'joined', learnerId: learner.id });
      const [seat] = await store.seats(workshop.id, learner.id);
      return { workshop: learnerView(workshop, seat ?? null), joined };
    },

    async current(learnerId) {
      const workshop = await store.currentOf(learnerId);
      if (!workshop) return null;
      const [seat] = await store.seats(workshop.id, learnerId);
      return learnerView(workshop, seat ?? null);
    },

    async dashboard(id, instructor) {
      return dashboardOf(await runBy(id, instructor));
    },

    async resultsCsv(id, instructor) {
      return resultsCsv(await dashboardOf(await runBy(id, instructor)));
    },

    async postMessage(id, instructor, { message }) {
      await runBy(id, instructor);
      await store.setMessage(id, message === '' ? null : message, now().toISOString());
      await publish({ workshop: id, change: 'message' });
      return view(await existing(id));
    },

    async extend(id, instructor, { minutes, learnerId }) {
      const workshop = await runBy(id, instructor);
      if (workshop.endedAt !== null) throw new WorkshopError(409, 'the workshop has ended; its time cannot be extended');
      if (learnerId) {
        if (!(await store.addMinutes(id, learnerId, minutes))) throw new WorkshopError(404, `learner ${learnerId} has no seat in this workshop`);
        await labs.extend([learnerId], workshop.labs, minutes);
      } else {
        await store.setEndsAt(id, new Date(Date.parse(workshop.endsAt) + minutes * 60_000).toISOString());
        await labs.extend(
          (await store.seats(id)).map((seat) => seat.learnerId),
          workshop.labs,
          minutes,
        );
      }
      await publish({ workshop: id, change: 'extended', ...(learnerId ? { learnerId } : {}) });
      return view(await existing(id));
    },

    async resetLab(id, instructor, learnerId, lab) {
      const workshop = await runBy(id, instructor);
      if (!workshop.labs.includes(lab)) throw new WorkshopError(400, `lab: "${lab}" is not a lab of this workshop (${workshop.labs.join(', ') || 'none'})`);
      await this.seat(id, learnerId);
      await labs.reset(learnerId, lab);
      log.info({ workshop: id, learner: learnerId, lab }, 'instructor reset a learner’s lab');
      await publish({ workshop: id, change: 'reset', learnerId });
    },

    async end(id, instructor) {
      const workshop = await runBy(id, instructor);
      if (await store.end(id, now().toISOString())) {
        for (const seat of await store.seats(id)) {
          for (const lab of workshop.labs) {
            await labs.end(seat.learnerId, lab).catch((error: unknown) => log.warn({ err: error, workshop: id, learner: seat.learnerId, lab }, 'could not end a learner’s lab'));
          }
        }
        // The warm sandboxes reserved for this workshop are not needed any more.
        if (workshop.prewarm > 0 && options.sandboxes) {
          for (const lab of workshop.labs) await options.sandboxes.prewarm(lab, 0).catch((error: unknown) => log.warn({ err: error, workshop: id, lab }, 'could not give back the warm sandboxes'));
        }
        log.info({ workshop: id }, 'workshop ended');
        await publish({ workshop: id, change: 'ended' });
      }
      return view(await existing(id));
    },

    async setViewing(id, learnerId, viewing) {
      await publish({ workshop: id, change: 'viewing', learnerId, viewing });
    },

    async seat(id, learnerId) {
      const [seat] = await store.seats(id, learnerId);
      if (!seat) throw new WorkshopError(404, `learner ${learnerId} has no seat in workshop ${id}`);
      return seat;
    },

    async watch(id, instructor, onEvent) {
      await runBy(id, instructor);
      await subscribe();
      let watch = watches.get(id);
      if (!watch) {
        const workshop = await existing(id);
        const made: Watch = { workshop, columns: [], rows: new Map(), listeners: new Set(), pending: new Map(), ready: Promise.resolve() };
        made.ready = (async () => {
          made.columns = await columnsOf(workshop);
          made.rows = new Map((await rowsOf(workshop, made.columns)).map((row) => [row.learnerId, row]));
        })();
        watches.set(id, made);
        watch = made;
      }
      const current = watch;
      try {
        await current.ready;
      } catch (error) {
        if (watches.get(id) === current) watches.delete(id);
        throw error;
      }
      current.listeners.add(onEvent);
      const rows = [...current.rows.values()];
      onEvent({
        type: 'dashboard',
        dashboard: { workshop: await view(current.workshop), columns: current.columns, rows, completions: completions(current.columns, rows), at: now().toISOString() },
      });
      return () => {
        current.listeners.delete(onEvent);
        if (current.listeners.size === 0 && watches.get(id) === current) watches.delete(id);
      };
    },

    async follow(learnerId, onEvent) {
      await subscribe();
      let listeners = followers.get(learnerId);
      if (!listeners) {
        listeners = new Set();
        followers.set(learnerId, listeners);
      }
      const own = listeners;
      own.add(onEvent);
      const workshop = await store.currentOf(learnerId);
      if (workshop) {
        const [seat] = await store.seats(workshop.id, learnerId);
        onEvent({ type: 'workshop', workshop: learnerView(workshop, seat ?? null) });
      }
      return () => {
        own.delete(onEvent);
        if (own.size === 0 && followers.get(learnerId) === own) followers.delete(learnerId);
      };
    },

    async close() {
      clearInterval(sweep);
      for (const timer of prewarmTimers) clearTimeout(timer);
      prewarmTimers.clear();
      await subscribed?.catch(() => undefined);
      for (const unsubscribe of unsubscribes.splice(0)) unsubscribe();
      watches.clear();
      followers.clear();
    },
  };
}
