import { workshopRoute } from '../_workshops.ts';

/** GET /api/workshops/:id: the workshop, to its instructors. */
export const GET = workshopRoute(async ({ workshops, learner, id }) => workshops.get(id, learner));
