// The portal's Auth service: signing in and out as AUTH says, and each session's CSRF token.

import type { AuthConfig } from '../config.ts';
import type { Logger } from '../log.ts';
import type { SignedIn, SignInOptions, Sessions } from './sessions.ts';
import { csrfTokenFor } from './csrf.ts';
import { SignInError } from './errors.ts';
import { deriveKey } from './keys.ts';
import { createProviderSignIn, type ProviderSignIn } from './oidc.ts';

/** Signing in and out as configured by AUTH, and the per-session CSRF token. */
export interface Auth {
  readonly mode: 'dev' | 'oidc';
  /** The CSRF token of a session: forms send it as `_csrf`, scripts as the `x-csrf-token` header. */
  csrfToken(sessionToken: string): string;
  /**
   * AUTH=oidc: where to send the browser, and the sealed sign-in transaction (state, nonce, PKCE
   * verifier, return path) to keep in a cookie until the provider sends the browser back.
   */
  beginProviderSignIn(returnTo: string): Promise<{ location: string; transaction: string }>;
  /** AUTH=oidc: checks the provider's answer at `callbackUrl` against the transaction and signs the learner in. */
  completeProviderSignIn(callbackUrl: URL, transaction: string | null, options?: SignInOptions): Promise<SignedIn & { returnTo: string }>;
  /** Ends the session; `location` is the provider's sign-out page when it has one (AUTH=oidc), else null. */
  signOut(token: string | null): Promise<{ location: string | null }>;
}

export interface AuthParts {
  sessions: Sessions;
  /** SESSION_SECRET. */
  secret: string;
  log: Logger;
  now?: () => number;
}

export function createAuth(config: AuthConfig, parts: AuthParts): Auth {
  const { sessions, secret, log } = parts;
  const csrfKey = deriveKey(secret, 'csrf');
  const provider: ProviderSignIn | null =
    config.mode === 'oidc'
      ? createProviderSignIn(config, { key: deriveKey(secret, 'signin-transaction'), log: log.child({ component: 'oidc' }), now: parts.now })
      : null;
  const atProvider = (): ProviderSignIn => {
    if (provider === null) throw new SignInError('this portal runs with AUTH=dev: sign in with your name on /signin');
    return provider;
  };

  return {
    mode: config.mode,

    csrfToken: (sessionToken) => csrfTokenFor(csrfKey, sessionToken),

    beginProviderSignIn: async (returnTo) => atProvider().begin(returnTo),

    async completeProviderSignIn(callbackUrl, transaction, options) {
      let answer: Awaited<ReturnType<ProviderSignIn['complete']>>;
      try {
        answer = await atProvider().complete(callbackUrl, transaction);
      } catch (error) {
        // The learner sees the reason on the sign-in page; operators see it here.
        log.warn({ reason: (error as Error).message }, 'a sign-in through the identity provider failed');
        throw error;
      }
      return { ...(await sessions.signInWithProvider(answer.identity, options)), returnTo: answer.returnTo };
    },

    async signOut(token) {
      const ended = token === null ? null : await sessions.signOut(token);
      // Only a session that was open here is worth ending at the provider too.
      if (provider === null || ended === null) return { location: null };
      return { location: await provider.signOutLocation(ended.idToken) };
    },
  };
}
