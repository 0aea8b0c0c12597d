import type { APIRoute } from 'astro';
import { jsonError } from '../../_http.ts';
import { json, learningOf } from '../_learning.ts';

/** GET /api/me/learning: the signed-in learner's paths, labs and certificates. */
export const GET: APIRoute = async ({ locals }) => {
  const learning = learningOf(locals);
  if (learning instanceof Response) return learning;
  const learner = locals.learner;
  if (!learner) return jsonError(401, 'sign in first');
  return json({ learner: { id: learner.id, name: learner.name }, ...(await learning.record.myLearning(learner.id)) });
};
