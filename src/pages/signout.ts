import type { APIRoute } from 'astro';
import { SESSION_COOKIE } from '../server/auth/index.ts';
import { redirect } from './_http.ts';

/**
 * POST /signout: the header's sign-out form. Ends the session here; with AUTH=oidc the browser
 * then goes to the provider's sign-out page (when it has one), else back to the catalog.
 */
export const POST: APIRoute = async ({ locals, cookies }) => {
  const { location } = await locals.services.auth.signOut(cookies.get(SESSION_COOKIE)?.value ?? null);
  cookies.delete(SESSION_COOKIE, { path: '/' });
  return redirect(location ?? '/');
};
