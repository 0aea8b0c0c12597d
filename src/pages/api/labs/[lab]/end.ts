import type { APIRoute } from 'astro';
import { answer, labRequest } from '../_lab.ts';

/** POST /api/labs/:lab/end {session?}: end in the signed-in learner's own lab session. */
export const POST: APIRoute = async (context) => {
  const request = await labRequest(context, { changesState: true });
  if (request instanceof Response) return request;
  return answer(() => request.labs.end(request.learner, request.lab, request.session));
};
