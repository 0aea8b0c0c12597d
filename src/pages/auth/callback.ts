import type { APIRoute } from 'astro';
import { isSignInError, SESSION_COOKIE, sessionCookie, TRANSACTION_COOKIE } from '../../server/auth/index.ts';
import { redirect, requestIsHttps, safeNextPath } from '../_http.ts';

/**
 * GET /auth/callback?code=…&state=…: the identity provider sends the browser back here. The
 * answer is checked against this browser's sign-in (state, nonce, PKCE); the learner gets a new
 * session and goes back to where they started.
 */
export const GET: APIRoute = async ({ url, request, locals, cookies }) => {
  const transaction = cookies.get(TRANSACTION_COOKIE)?.value ?? null;
  // One answer per sign-in: whatever happens next, this transaction is spent.
  cookies.delete(TRANSACTION_COOKIE, { path: '/auth' });
  try {
    const { token, returnTo } = await locals.services.auth.completeProviderSignIn(url, transaction, {
      replacing: cookies.get(SESSION_COOKIE)?.value ?? null,
    });
    cookies.set(SESSION_COOKIE, token, sessionCookie(requestIsHttps(request, url)));
    // Checked when the sign-in began and sealed since; checked again so no path skips the check.
    return redirect(safeNextPath(returnTo));
  } catch (error) {
    if (isSignInError(error)) return redirect(`/signin?${new URLSearchParams({ error: `Sign-in failed: ${error.message}` })}`);
    throw error;
  }
};
