import type { APIRoute } from 'astro';
import { signInInput, type Role, type SignInInput } from '../../contracts/index.ts';
import { SESSION_COOKIE, sessionCookie } from '../../server/auth/index.ts';
import { bodyOf, isFormPost, isLearnerInputError, jsonError, redirect, refusalMessage, requestIsHttps, safeNextPath } from '../_http.ts';

/** The dev sign-in form's choice of role; an admin may also do what an instructor does. */
const DEV_ROLES: Record<SignInInput['role'], Role[]> = { learner: [], instructor: ['instructor'], admin: ['admin'] };

/**
 * POST /api/session {name[, role][, next]}: AUTH=dev sign-in, optionally as instructor or admin
 * (`role`). Starts a new session (ending this browser's previous one) and sets its cookie; a form
 * gets a redirect to `next`, a script gets {learner, csrfToken}.
 */
export const POST: APIRoute = async ({ request, locals, cookies, url }) => {
  const form = isFormPost(request);
  const fields = await bodyOf(request, signInInput, { forms: true });
  const next = safeNextPath(fields instanceof Response ? undefined : fields.next);
  const fail = (status: number, message: string) =>
    form ? redirect(`/signin?${new URLSearchParams({ error: message, next })}`) : jsonError(status, message);
  const { auth, sessions } = locals.services;
  if (auth.mode !== 'dev') return fail(403, 'this portal signs in through the identity provider (AUTH=oidc): use /auth/login, not a name');
  if (fields instanceof Response) return form ? fail(fields.status, await refusalMessage(fields)) : fields;

  try {
    const { token, learner } = await sessions.signIn(fields.name, { roles: DEV_ROLES[fields.role], replacing: cookies.get(SESSION_COOKIE)?.value ?? null });
    cookies.set(SESSION_COOKIE, token, sessionCookie(requestIsHttps(request, url)));
    return form ? redirect(next) : Response.json({ learner, csrfToken: auth.csrfToken(token) });
  } catch (error) {
    if (isLearnerInputError(error)) return fail(400, error.message);
    throw error;
  }
};

/** DELETE /api/session: signs out the learner of this cookie (here only; a script cannot follow the provider's sign-out page). */
export const DELETE: APIRoute = async ({ locals, cookies }) => {
  await locals.services.auth.signOut(cookies.get(SESSION_COOKIE)?.value ?? null);
  cookies.delete(SESSION_COOKIE, { path: '/' });
  return new Response(null, { status: 204 });
};
