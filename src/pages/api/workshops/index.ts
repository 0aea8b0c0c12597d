import { createWorkshopInput } from '../../../contracts/index.ts';
import { readBody } from '../../../server/http/index.ts';
import { workshopRoute } from './_workshops.ts';

/** GET /api/workshops: the workshops the instructor runs (every workshop for an admin). */
export const GET = workshopRoute(async ({ workshops, learner }) => ({ workshops: await workshops.list(learner) }));

/** POST /api/workshops {title, labs, paths, startsAt, endsAt, seats, …}: creates a workshop the caller owns. */
export const POST = workshopRoute(async ({ workshops, learner }, { request }) => workshops.create(learner, await readBody(request, createWorkshopInput)), 201);
