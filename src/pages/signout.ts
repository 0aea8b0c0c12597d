import type { APIRoute } from 'astro';
import { SESSION_COOKIE } from '../server/services.ts';
import { redirect } from './_http.ts';

/** POST /signout: the header's sign-out form; back to the catalog. */
export const POST: APIRoute = async ({ locals, cookies }) => {
  const token = cookies.get(SESSION_COOKIE)?.value;
  if (token) await locals.services.sessions.signOut(token);
  cookies.delete(SESSION_COOKIE, { path: '/' });
  return redirect('/');
};
