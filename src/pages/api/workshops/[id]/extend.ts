import { extendInput } from '../../../../contracts/index.ts';
import { readBody } from '../../../../server/http/index.ts';
import { workshopRoute } from '../_workshops.ts';

/** POST /api/workshops/:id/extend {minutes, learnerId?}: more time for one learner, or for everyone. */
export const POST = workshopRoute(async ({ workshops, learner, id }, { request }) => workshops.extend(id, learner, await readBody(request, extendInput)));
