// Instructor-led workshops: create one, join by code, the live dashboard (learners × lab steps,
// who is stuck), the instructor's actions, results as CSV; state in the database and changes
// fanned out through src/server/events so several portal processes behave as one.

import type { DatabaseConfig } from '../config.ts';
import type { Database } from '../db/index.ts';
import { openNotifications, type Notifications } from '../events/index.ts';
import type { PortalRoutes } from '../http/index.ts';
import type { Logger } from '../log.ts';
import type { Learner } from '../../contracts/index.ts';
import type { LabSessions } from '../labs/index.ts';
import { observerSockets, type TerminalViewing } from './observe.ts';
import { registerWorkshopRoutes } from './routes.ts';
import { createWorkshops, type WorkshopLabRecords, type WorkshopLabs, type WorkshopSandboxes, type Workshops } from './service.ts';

export { createWorkshops, joinPath, WORKSHOP_CHANGES } from './service.ts';
export type { Instructor, WorkshopLabRecords, WorkshopLabs, Workshops, WorkshopSandboxes, WorkshopsOptions } from './service.ts';
export { resultsCsv } from './csv.ts';
export { registerWorkshopRoutes } from './routes.ts';
export { observerSockets } from './observe.ts';
export type { ObserverSocketsOptions, TerminalViewing } from './observe.ts';
export { WorkshopError } from './model.ts';
export type { Seat } from './model.ts';

/** Lab sessions act on behalf of a learner; only the id matters to them. */
function onBehalfOf(learnerId: string): Learner {
  return { id: learnerId, name: learnerId, email: null, groups: [], roles: [] };
}

/** Workshops over the portal's lab sessions; without labs, no lab has steps and nothing can be reset. */
function workshopLabs(labs: Pick<LabSessions, 'describe' | 'reset' | 'end' | 'extend'> | null): WorkshopLabs {
  return {
    describe: async (lab) => (labs ? labs.describe(lab) : null),
    async reset(learnerId, lab) {
      if (!labs) throw new Error('labs are not available on this portal');
      await labs.reset(onBehalfOf(learnerId), lab);
    },
    async end(learnerId, lab) {
      await labs?.end(onBehalfOf(learnerId), lab);
    },
    async extend(learnerIds, labIds, minutes) {
      await labs?.extend(learnerIds, labIds, minutes);
    },
  };
}

export interface StartWorkshopsOptions {
  database: DatabaseConfig;
  db: Database;
  /** The lab sessions whose steps make the dashboard and which instructors reset and end; null without labs. */
  labs: Pick<LabSessions, 'describe' | 'reset' | 'end' | 'extend'> | null;
  /** The lab sessions as tracking records them, for the dashboard. */
  records: WorkshopLabRecords;
  log: Logger;
  sandboxes?: WorkshopSandboxes;
  /** The portal's open lab terminals, for instructors to view; absent without labs. */
  terminals?: TerminalViewing;
  now?: () => Date;
}

export interface RunningWorkshops {
  workshops: Workshops;
  notifications: Notifications;
  /** The event streams, the terminal view, and closing the notifications at shutdown (the JSON API is src/pages/api/workshops). */
  register(routes: PortalRoutes): void;
}

export function startWorkshops(options: StartWorkshopsOptions): RunningWorkshops {
  const log = options.log.child({ component: 'workshops' });
  const notifications = openNotifications(options.database, options.db, log);
  const workshops = createWorkshops({
    db: options.db,
    notifications,
    labs: workshopLabs(options.labs),
    records: options.records,
    log,
    ...(options.sandboxes ? { sandboxes: options.sandboxes } : {}),
    ...(options.now ? { now: options.now } : {}),
  });
  return {
    workshops,
    notifications,
    register(routes) {
      registerWorkshopRoutes(routes, workshops);
      const labSessionOf = async (learnerId: string, lab: string) => (await options.records.current(learnerId, lab))?.id ?? null;
      const viewers = observerSockets({ workshops, terminals: options.terminals ?? null, labSessionOf, log });
      routes.upgrade('/api/workshops/:id/learners/:learner/terminal', viewers.upgrade);
      routes.onShutdown(async () => {
        viewers.close();
        await workshops.close();
        await notifications.close();
      });
    },
  };
}
