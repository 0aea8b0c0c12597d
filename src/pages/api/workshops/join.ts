import { joinInput } from '../../../contracts/index.ts';
import { readBody } from '../../../server/http/index.ts';
import { workshopRoute } from './_workshops.ts';

/** POST /api/workshops/join {code}: takes a seat in the workshop of that code (or finds the learner's). */
export const POST = workshopRoute(async ({ workshops, learner }, { request }) => workshops.join(learner, await readBody(request, joinInput)));
