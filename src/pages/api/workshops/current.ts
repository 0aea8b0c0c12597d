import { workshopRoute } from './_workshops.ts';

/** GET /api/workshops/current: the workshop the learner is in now, or null. */
export const GET = workshopRoute(async ({ workshops, learner }) => ({ workshop: await workshops.current(learner.id) }));
