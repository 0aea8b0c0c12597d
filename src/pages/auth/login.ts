import type { APIRoute } from 'astro';
import { isSignInError, TRANSACTION_COOKIE, transactionCookie } from '../../server/auth/index.ts';
import { redirect, requestIsHttps, safeNextPath } from '../_http.ts';

/**
 * GET /auth/login?returnTo=/path: AUTH=oidc sign-in. Sends the browser to the identity provider
 * with a fresh state, nonce and PKCE challenge, kept sealed in a cookie until /auth/callback.
 */
export const GET: APIRoute = async ({ url, request, locals, cookies }) => {
  const { auth } = locals.services;
  const returnTo = safeNextPath(url.searchParams.get('returnTo'));
  if (auth.mode !== 'oidc') return redirect(`/signin?${new URLSearchParams({ next: returnTo })}`);
  try {
    const { location, transaction } = await auth.beginProviderSignIn(returnTo);
    cookies.set(TRANSACTION_COOKIE, transaction, transactionCookie(requestIsHttps(request, url)));
    return redirect(location);
  } catch (error) {
    if (isSignInError(error)) return redirect(`/signin?${new URLSearchParams({ error: `Sign-in is unavailable: ${error.message}`, next: returnTo })}`);
    throw error;
  }
};
