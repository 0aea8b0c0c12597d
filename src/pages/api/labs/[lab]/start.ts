import type { APIRoute } from 'astro';
import { answer, labRequest, lessonsWithLab } from '../_lab.ts';

/**
 * POST /api/labs/:lab/start: opens the signed-in learner's session of the lab (or returns the open
 * one) and starts its sandbox; poll GET /api/labs/:lab/state until its status is "ready".
 */
export const POST: APIRoute = async (context) => {
  const request = await labRequest(context, { changesState: true });
  if (request instanceof Response) return request;
  const lessons = await lessonsWithLab(request.lab);
  return answer(() => request.labs.start(request.learner, request.lab, { lessons }), 202);
};
