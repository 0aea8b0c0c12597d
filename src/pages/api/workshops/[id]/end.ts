import { workshopRoute } from '../_workshops.ts';

/** POST /api/workshops/:id/end: ends the workshop and every learner's lab of it. */
export const POST = workshopRoute(async ({ workshops, learner, id }) => workshops.end(id, learner));
