import { workshopRoute } from '../_workshops.ts';

/** GET /api/workshops/:id/dashboard: learners × lab steps now (GET …/events follows it live). */
export const GET = workshopRoute(async ({ workshops, learner, id }) => workshops.dashboard(id, learner));
