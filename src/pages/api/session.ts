import type { APIRoute } from 'astro';
import { SESSION_LIFETIME_MS } from '../../server/learners/index.ts';
import { SESSION_COOKIE } from '../../server/services.ts';
import { isFormPost, isLearnerInputError, jsonError, readFields, redirect, requestIsHttps, safeNextPath } from '../_http.ts';

/**
 * POST /api/session {name[, next]}: AUTH=dev sign-in. Sets the session cookie; a form gets a
 * redirect to `next`, a script gets {learner}.
 */
export const POST: APIRoute = async ({ request, locals, cookies, url }) => {
  const form = isFormPost(request);
  const fields = await readFields(request);
  const next = safeNextPath(fields?.next);
  const fail = (message: string) =>
    form ? redirect(`/signin?${new URLSearchParams({ error: message, next })}`) : jsonError(400, message);
  if (!fields) return fail('the request body must be JSON or a form with a name field');

  try {
    const { token, learner } = await locals.services.sessions.signIn(fields.name ?? '');
    cookies.set(SESSION_COOKIE, token, {
      path: '/',
      httpOnly: true,
      sameSite: 'lax',
      secure: requestIsHttps(request, url),
      maxAge: Math.floor(SESSION_LIFETIME_MS / 1000),
    });
    return form ? redirect(next) : Response.json({ learner });
  } catch (error) {
    if (isLearnerInputError(error)) return fail(error.message);
    throw error;
  }
};

/** DELETE /api/session: signs out the learner of this cookie. */
export const DELETE: APIRoute = async ({ locals, cookies }) => {
  const token = cookies.get(SESSION_COOKIE)?.value;
  if (token) await locals.services.sessions.signOut(token);
  cookies.delete(SESSION_COOKIE, { path: '/' });
  return new Response(null, { status: 204 });
};
