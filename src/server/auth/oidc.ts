// AUTH=oidc: the authorization code flow with PKCE, state and nonce (openid-client). /auth/login
// begins it: a fresh state, nonce and PKCE verifier go, sealed, into a short-lived cookie and the
// browser goes to the provider. /auth/callback completes it: the provider's answer must carry
// that state, the code is exchanged with that verifier, the ID token must carry that nonce. The
// learner's name, email and groups come from the ID token and userinfo; the groups decide the
// roles. The provider's metadata is fetched on first use (and again after a failure), so a
// provider that is down keeps nobody from reading lessons — only from signing in.

import * as client from 'openid-client';
import { z } from 'zod';
import type { OidcConfig } from '../config.ts';
import { MAX_NAME_LENGTH } from './names.ts';
import type { Logger } from '../log.ts';
import type { ProviderIdentity } from './sessions.ts';
import { TRANSACTION_LIFETIME_MS } from './cookies.ts';
import { seal, unseal } from './keys.ts';
import { safeReturnPath } from './paths.ts';
import { rolesOfGroups } from './roles.ts';
import { SignInError } from './errors.ts';

const DISCOVERY_TIMEOUT_SECONDS = 10;

const transactionSchema = z.object({
  state: z.string(),
  nonce: z.string(),
  verifier: z.string(),
  returnTo: z.string(),
  startedAt: z.number(),
});
type Transaction = z.infer<typeof transactionSchema>;

export interface ProviderSignIn {
  begin(returnTo: string): Promise<{ location: string; transaction: string }>;
  complete(callbackUrl: URL, transaction: string | null): Promise<{ identity: ProviderIdentity; returnTo: string }>;
  /** The provider's sign-out address (RP-initiated logout), or null when it advertises none or cannot be reached. */
  signOutLocation(idToken: string | null): Promise<string | null>;
}

export interface ProviderSignInOptions {
  /** Seals the transaction cookie. */
  key: Buffer;
  log: Logger;
  now?: () => number;
}

/** The innermost reason of a failed request: `connect ECONNREFUSED 127.0.0.1:1`, not `fetch failed`. */
function rootCause(error: unknown): string {
  let current: unknown = error;
  while (current instanceof Error && current.cause instanceof Error) current = current.cause;
  return current instanceof Error ? current.message : String(current);
}

function isNetworkFailure(error: unknown): boolean {
  return error instanceof TypeError || (error instanceof Error && error.name === 'AbortError') || (error instanceof Error && error.name === 'TimeoutError');
}

function stringClaim(claims: Record<string, unknown>, name: string): string | null {
  const value = claims[name];
  return typeof value === 'string' && value.trim() !== '' ? value.trim() : null;
}

/** Providers send groups as an array, some as one string; anything else is no groups. */
function groupsClaim(claims: Record<string, unknown>, name: string): string[] {
  const value = claims[name];
  if (typeof value === 'string') return [value];
  if (Array.isArray(value)) return value.filter((group): group is string => typeof group === 'string');
  return [];
}

/** The name the portal shows: tidy enough for the learner-name rules (no control characters, bounded). */
function displayName(claims: Record<string, unknown>, subject: string): string {
  const raw = stringClaim(claims, 'name') ?? stringClaim(claims, 'preferred_username') ?? stringClaim(claims, 'email') ?? subject;
  return [...raw.replace(/\p{Cc}/gu, ' ')].slice(0, MAX_NAME_LENGTH).join('').trim() || subject.slice(0, MAX_NAME_LENGTH);
}

export function createProviderSignIn(config: OidcConfig, options: ProviderSignInOptions): ProviderSignIn {
  const { key, log } = options;
  const now = options.now ?? Date.now;
  const issuer = new URL(config.issuer);
  // Plain http is allowed by the configuration only on loopback addresses (a provider in a test).
  const insecure = issuer.protocol === 'http:';
  const postLogoutRedirect = new URL('..', config.redirectUrl).href;

  let discovered: Promise<client.Configuration> | null = null;
  const unreachable = (error: unknown) =>
    new SignInError(
      `OIDC_ISSUER: could not reach the identity provider at ${config.issuer} (${rootCause(error)}); check that the address is right and the provider is up`,
      { cause: error },
    );
  const provider = (): Promise<client.Configuration> => {
    discovered ??= client
      .discovery(issuer, config.clientId, config.clientSecret, undefined, {
        timeout: DISCOVERY_TIMEOUT_SECONDS,
        ...(insecure ? { execute: [client.allowInsecureRequests] } : {}),
      })
      .catch((error: unknown) => {
        discovered = null;
        if (isNetworkFailure(error)) throw unreachable(error);
        throw new SignInError(`OIDC_ISSUER: ${config.issuer} does not describe an OpenID provider: ${(error as Error).message}`, { cause: error });
      });
    return discovered;
  };

  const openTransaction = (sealed: string | null): Transaction => {
    const restart = 'sign in again';
    if (sealed === null) throw new SignInError(`this browser has no sign-in in progress (it took longer than ${TRANSACTION_LIFETIME_MS / 60_000} minutes, or was started in another browser); ${restart}`);
    const opened = unseal(key, sealed);
    const parsed = opened === null ? null : transactionSchema.safeParse(JSON.parse(opened));
    if (!parsed?.success) throw new SignInError(`the sign-in cookie was not made by this portal (or SESSION_SECRET changed); ${restart}`);
    if (now() - parsed.data.startedAt > TRANSACTION_LIFETIME_MS) {
      throw new SignInError(`the sign-in took longer than ${TRANSACTION_LIFETIME_MS / 60_000} minutes; ${restart}`);
    }
    return parsed.data;
  };

  return {
    async begin(returnTo) {
      const configuration = await provider();
      const transaction: Transaction = {
        state: client.randomState(),
        nonce: client.randomNonce(),
        verifier: client.randomPKCECodeVerifier(),
        returnTo: safeReturnPath(returnTo),
        startedAt: now(),
      };
      const location = client.buildAuthorizationUrl(configuration, {
        redirect_uri: config.redirectUrl,
        scope: config.scopes.join(' '),
        state: transaction.state,
        nonce: transaction.nonce,
        code_challenge: await client.calculatePKCECodeChallenge(transaction.verifier),
        code_challenge_method: 'S256',
      });
      return { location: location.href, transaction: seal(key, JSON.stringify(transaction)) };
    },

    async complete(callbackUrl, sealed) {
      const transaction = openTransaction(sealed);
      const refused = callbackUrl.searchParams.get('error');
      if (refused !== null) {
        const description = callbackUrl.searchParams.get('error_description');
        throw new SignInError(`the identity provider refused the sign-in: ${refused}${description ? ` (${description})` : ''}`);
      }
      if (callbackUrl.searchParams.get('state') !== transaction.state) {
        throw new SignInError('the identity provider’s answer does not belong to the sign-in this browser started (state mismatch); sign in again');
      }
      const configuration = await provider();
      // The callback's own address as the provider saw it: OIDC_REDIRECT_URL with the answer's parameters.
      const answer = new URL(config.redirectUrl);
      answer.search = callbackUrl.search;

      let claims: Record<string, unknown>;
      let idToken: string | null;
      try {
        const tokens = await client.authorizationCodeGrant(configuration, answer, {
          pkceCodeVerifier: transaction.verifier,
          expectedState: transaction.state,
          expectedNonce: transaction.nonce,
          idTokenExpected: true,
        });
        const idClaims = tokens.claims();
        if (!idClaims) throw new SignInError('the identity provider sent no ID token');
        idToken = tokens.id_token ?? null;
        const userinfo = configuration.serverMetadata().userinfo_endpoint
          ? await client.fetchUserInfo(configuration, tokens.access_token, idClaims.sub)
          : {};
        // The ID token wins where both say something: it is signed by the provider.
        claims = { ...userinfo, ...idClaims };
      } catch (error) {
        if (error instanceof SignInError) throw error;
        if (isNetworkFailure(error)) throw unreachable(error);
        if (error instanceof client.ResponseBodyError || error instanceof client.AuthorizationResponseError) {
          throw new SignInError(
            `the identity provider refused the sign-in: ${error.error}${error.error_description ? ` (${error.error_description})` : ''}`,
            { cause: error },
          );
        }
        // openid-client's message is general ("unexpected JWT claim value"); its cause names the claim.
        const { message, cause } = error as Error;
        const detail = cause instanceof Error && cause.message !== message ? `${message}: ${cause.message}` : message;
        throw new SignInError(`the identity provider’s answer failed verification: ${detail}`, { cause: error });
      }

      const subject = String(claims.sub);
      const groups = groupsClaim(claims, config.groupsClaim);
      const identity: ProviderIdentity = {
        issuer: config.issuer,
        subject,
        name: displayName(claims, subject),
        email: stringClaim(claims, 'email'),
        groups,
        roles: rolesOfGroups(groups, config),
        idToken,
      };
      log.info({ subject, groups: groups.length, roles: identity.roles }, 'signed in at the identity provider');
      return { identity, returnTo: transaction.returnTo };
    },

    async signOutLocation(idToken) {
      let configuration: client.Configuration;
      try {
        configuration = await provider();
      } catch (error) {
        log.warn({ err: error }, 'signed out here only: the identity provider could not be reached to sign out there');
        return null;
      }
      if (!configuration.serverMetadata().end_session_endpoint) return null;
      const parameters: Record<string, string> = { post_logout_redirect_uri: postLogoutRedirect, client_id: config.clientId };
      if (idToken) parameters.id_token_hint = idToken;
      return client.buildEndSessionUrl(configuration, parameters).href;
    },
  };
}
