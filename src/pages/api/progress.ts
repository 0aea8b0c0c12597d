import type { APIRoute } from 'astro';
import { findLesson } from '../../catalog/index.ts';
import { markProgressInput } from '../../contracts/index.ts';
import { bodyOf, isFormPost, jsonError, redirect } from '../_http.ts';

/** GET /api/progress: the signed-in learner's progress, one record per lesson opened. */
export const GET: APIRoute = async ({ locals }) => {
  if (!locals.learner) return jsonError(401, 'sign in first: POST /api/session {name}');
  return Response.json({ progress: await locals.services.progress.forLearner(locals.learner.id) });
};

/**
 * POST /api/progress {path, lesson, status: "viewed" | "completed"}: records progress for the
 * signed-in learner. A form gets a redirect back to the lesson; a script gets the record. A lesson
 * with a lab is completed by completing the lab (409 before).
 */
export const POST: APIRoute = async ({ request, locals }) => {
  const form = isFormPost(request);
  if (!locals.learner) return form ? redirect('/signin') : jsonError(401, 'sign in first: POST /api/session {name}');
  const fields = await bodyOf(request, markProgressInput, { forms: true });
  if (fields instanceof Response) return fields;

  const found = await findLesson(fields.path, fields.lesson);
  if (!found) return jsonError(404, `lesson "${fields.path}/${fields.lesson}" does not exist`);

  const { progress } = locals.services;
  const learnerId = locals.learner.id;
  // A lesson with a lab completes when its lab does (the lab service marks it): a button must not do the work's part.
  if (fields.status === 'completed' && found.lesson.lab && !(await progress.labCompleted(learnerId, found.lesson.lab))) {
    if (form) return redirect(`${found.lesson.url}#complete-heading`);
    return jsonError(409, `lesson: “${found.lesson.title}” completes when you finish its lab (${found.lesson.lab}), and that lab is not done yet`);
  }
  if (fields.status === 'completed') await progress.markCompleted(learnerId, found.path.id, found.lesson.id);
  else await progress.markViewed(learnerId, found.path.id, found.lesson.id);
  if (form) return redirect(found.lesson.url);
  const record = (await progress.forLearner(learnerId)).find((item) => item.path === found.path.id && item.lesson === found.lesson.id);
  return Response.json(record ?? null);
};
