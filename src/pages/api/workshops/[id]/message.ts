import { messageInput } from '../../../../contracts/index.ts';
import { readBody } from '../../../../server/http/index.ts';
import { workshopRoute } from '../_workshops.ts';

/** POST /api/workshops/:id/message {message}: the banner every learner sees; "" takes it down. */
export const POST = workshopRoute(async ({ workshops, learner, id }, { request }) => workshops.postMessage(id, learner, await readBody(request, messageInput)));
