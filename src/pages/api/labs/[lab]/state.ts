import type { APIRoute } from 'astro';
import { answer, labRequest } from '../_lab.ts';

/** GET /api/labs/:lab/state[?session=ID]: the signed-in learner's session of the lab, or null. */
export const GET: APIRoute = async (context) => {
  const request = await labRequest(context, { changesState: false });
  if (request instanceof Response) return request;
  return answer(() => request.labs.state(request.learner, request.lab, request.session));
};
