// The cookies sign-in relies on and how they are set. Both are HttpOnly (no script reads them)
// and SameSite=Lax (sent when the learner follows a link or the provider redirects back, not with
// another site's form posts or fetches); Secure whenever the browser reached us over HTTPS,
// directly or through a TLS-terminating proxy.

/** The session's cookie: an opaque token, HttpOnly, SameSite=Lax. */
export const SESSION_COOKIE = 'formicary_session';
import { SESSION_LIFETIME_MS } from './sessions.ts';

/** AUTH=oidc: the sealed sign-in transaction, from /auth/login until /auth/callback. */
export const TRANSACTION_COOKIE = 'formicary_signin';
/** How long a learner may take at the provider's sign-in page. */
export const TRANSACTION_LIFETIME_MS = 10 * 60 * 1000;

export interface CookieOptions {
  path: string;
  httpOnly: true;
  sameSite: 'lax';
  secure: boolean;
  maxAge: number;
}

export function sessionCookie(secure: boolean): CookieOptions {
  return { path: '/', httpOnly: true, sameSite: 'lax', secure, maxAge: Math.floor(SESSION_LIFETIME_MS / 1000) };
}

export function transactionCookie(secure: boolean): CookieOptions {
  return { path: '/auth', httpOnly: true, sameSite: 'lax', secure, maxAge: Math.floor(TRANSACTION_LIFETIME_MS / 1000) };
}

/** A cookie's value from a Cookie header; null when absent or empty. */
export function readCookie(header: string | undefined, name: string): string | null {
  if (!header) return null;
  for (const part of header.split(';')) {
    const separator = part.indexOf('=');
    if (separator === -1 || part.slice(0, separator).trim() !== name) continue;
    const value = part.slice(separator + 1).trim();
    return value === '' ? null : value;
  }
  return null;
}

export function sessionTokenOf(cookieHeader: string | undefined): string | null {
  return readCookie(cookieHeader, SESSION_COOKIE);
}
