import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createAuth, isSignInError } from '../../../src/server/auth/index.ts';
import { parseConfig, type AuthConfig } from '../../../src/server/config.ts';
import { applyMigrations, openDatabase, readMigrations, type Database } from '../../../src/server/db/index.ts';
import { createSessions } from '../../../src/server/auth/index.ts';
import type { Auth } from '../../../src/server/auth/index.ts';
import type { Sessions } from '../../../src/server/auth/index.ts';
import { useTestDatabases } from '../../support/databases.ts';
import { captureLogs } from '../../support/logs.ts';
import { Agent, freePort, signInAtProvider, startTestProvider, type TestProvider } from './provider.ts';

// The sign-in flow against a real OpenID provider (oidc-provider in this process): the portal's
// Auth service with real sessions on SQLite; the browser is an agent walking the provider's pages.

const PORTAL = 'http://127.0.0.1:4399';
const CALLBACK = `${PORTAL}/auth/callback`;
const databases = useTestDatabases();

let provider: TestProvider;
const open: Database[] = [];

beforeAll(async () => {
  provider = await startTestProvider([
    { login: 'ada', name: 'Ada Lovelace', email: 'ada@example.com', groups: ['engineering', 'trainers'] },
    { login: 'grace', preferred_username: 'grace.hopper', email: 'grace@example.com', groups: ['learning-ops'] },
    { login: 'linus', name: 'Linus', teams: ['trainers'] },
  ]);
  provider.trust(PORTAL);
});

afterAll(async () => {
  await provider?.stop();
});

afterEach(async () => {
  await Promise.all(open.splice(0).map((db) => db.close()));
});

function oidcConfig(env: Record<string, string> = {}): AuthConfig {
  return parseConfig(
    {
      AUTH: 'oidc',
      OIDC_ISSUER: provider.issuer,
      OIDC_CLIENT_ID: provider.clientId,
      OIDC_CLIENT_SECRET: provider.clientSecret,
      OIDC_REDIRECT_URL: CALLBACK,
      OIDC_SCOPES: 'openid profile email groups',
      OIDC_INSTRUCTOR_GROUPS: 'trainers',
      OIDC_ADMIN_GROUPS: 'learning-ops, training-owners',
      ...env,
    },
    '/srv',
  ).auth;
}

async function setUp(env: Record<string, string> = {}, now?: () => number): Promise<{ auth: Auth; sessions: Sessions }> {
  const db = openDatabase(await databases.fresh('sqlite'), captureLogs().log);
  open.push(db);
  await applyMigrations(db, await readMigrations(db.dialect));
  const sessions = createSessions(db);
  const auth = createAuth(oidcConfig(env), { sessions, secret: 'a-session-secret-for-tests-0123456789', log: captureLogs().log, now });
  return { auth, sessions };
}

/** The browser's part: from /auth/login's redirect through the provider's pages, back to the callback. */
async function answerFor(auth: Auth, login: string, alter: (location: URL) => void = () => undefined) {
  const { location, transaction } = await auth.beginProviderSignIn('/paths/kubernetes-foundations');
  const authorization = new URL(location);
  alter(authorization);
  const callback = await signInAtProvider(new Agent(), authorization.href, login, CALLBACK);
  return { callback: new URL(callback), transaction, authorization };
}

async function signInAs(auth: Auth, login: string) {
  const { callback, transaction } = await answerFor(auth, login);
  return auth.completeProviderSignIn(callback, transaction);
}

async function failure(work: Promise<unknown>): Promise<string> {
  const error = await work.then(
    () => null,
    (thrown: unknown) => thrown,
  );
  expect(isSignInError(error)).toBe(true);
  return (error as Error).message;
}

describe('signing in through the identity provider', () => {
  it('signs the learner in with name, email and groups, and grants the roles their groups map to', async () => {
    const { auth, sessions } = await setUp();
    const { callback, transaction } = await answerFor(auth, 'ada');
    const signedIn = await auth.completeProviderSignIn(callback, transaction);
    expect(signedIn.returnTo).toBe('/paths/kubernetes-foundations');
    expect(signedIn.learner).toMatchObject({ name: 'Ada Lovelace', email: 'ada@example.com', groups: ['engineering', 'trainers'], roles: ['instructor'] });
    expect(await sessions.resolve(signedIn.token)).toEqual(signedIn.learner);

    const grace = await signInAs(auth, 'grace');
    // No name claim: the preferred username is shown; a group in OIDC_ADMIN_GROUPS makes an admin.
    expect(grace.learner).toMatchObject({ name: 'grace.hopper', email: 'grace@example.com', roles: ['admin'] });
  });

  it('sends the browser with a PKCE S256 challenge, a state and a nonce, fresh for every sign-in', async () => {
    const { auth } = await setUp();
    const first = new URL((await auth.beginProviderSignIn('/')).location);
    const second = new URL((await auth.beginProviderSignIn('/')).location);
    expect(first.origin + first.pathname).toBe(`${provider.issuer}/auth`);
    for (const url of [first, second]) {
      expect(url.searchParams.get('response_type')).toBe('code');
      expect(url.searchParams.get('client_id')).toBe(provider.clientId);
      expect(url.searchParams.get('redirect_uri')).toBe(CALLBACK);
      expect(url.searchParams.get('scope')).toBe('openid profile email groups');
      expect(url.searchParams.get('code_challenge_method')).toBe('S256');
      expect(url.searchParams.get('code_challenge')).toMatch(/^[A-Za-z0-9_-]{43}$/);
      expect(url.searchParams.get('state')).toMatch(/^[A-Za-z0-9_-]{43}$/);
      expect(url.searchParams.get('nonce')).toMatch(/^[A-Za-z0-9_-]{43}$/);
    }
    for (const parameter of ['code_challenge', 'state', 'nonce']) {
      expect(first.searchParams.get(parameter)).not.toBe(second.searchParams.get(parameter));
    }
  });

  it('evaluates roles again at every sign-in: leaving the trainers group ends the instructor role', async () => {
    const { auth, sessions } = await setUp();
    const ada = provider.accounts.get('ada')!;
    const before = await signInAs(auth, 'ada');
    expect(before.learner.roles).toEqual(['instructor']);
    ada.groups = ['engineering', 'training-owners'];
    try {
      const after = await signInAs(auth, 'ada');
      expect(after.learner.id).toBe(before.learner.id);
      expect(after.learner.roles).toEqual(['admin']);
      // The earlier session belongs to the same learner: it sees the new roles too.
      expect((await sessions.resolve(before.token))?.roles).toEqual(['admin']);
    } finally {
      ada.groups = ['engineering', 'trainers'];
    }
  });

  it('reads groups from the claim OIDC_GROUPS_CLAIM names', async () => {
    const { auth } = await setUp({ OIDC_GROUPS_CLAIM: 'teams' });
    const { callback, transaction } = await answerFor(auth, 'linus');
    const { learner } = await auth.completeProviderSignIn(callback, transaction);
    expect(learner).toMatchObject({ name: 'Linus', email: null, groups: ['trainers'], roles: ['instructor'] });
  });

  it('ends the browser’s previous session when it signs in again', async () => {
    const { auth, sessions } = await setUp();
    const first = await signInAs(auth, 'ada');
    const { callback, transaction } = await answerFor(auth, 'ada');
    const second = await auth.completeProviderSignIn(callback, transaction, { replacing: first.token });
    expect(second.token).not.toBe(first.token);
    expect(await sessions.resolve(first.token)).toBeNull();
    expect(await sessions.resolve(second.token)).not.toBeNull();
  });
});

describe('answers the portal refuses', () => {
  it('refuses an answer meant for another sign-in (state mismatch)', async () => {
    const { auth } = await setUp();
    const mine = await auth.beginProviderSignIn('/');
    const theirs = await answerFor(auth, 'ada');
    const message = await failure(auth.completeProviderSignIn(theirs.callback, mine.transaction));
    expect(message).toMatch(/does not belong to the sign-in this browser started \(state mismatch\)/);
  });

  it('refuses an ID token that carries another nonce', async () => {
    const { auth } = await setUp();
    const { callback, transaction } = await answerFor(auth, 'ada', (url) => url.searchParams.set('nonce', 'a-nonce-this-browser-never-made'));
    const message = await failure(auth.completeProviderSignIn(callback, transaction));
    expect(message).toMatch(/failed verification: .*nonce/);
  });

  it('refuses a code issued for another PKCE challenge: the provider rejects the verifier', async () => {
    const { auth } = await setUp();
    const other = new URL((await auth.beginProviderSignIn('/')).location);
    const { callback, transaction } = await answerFor(auth, 'ada', (url) => url.searchParams.set('code_challenge', other.searchParams.get('code_challenge')!));
    const message = await failure(auth.completeProviderSignIn(callback, transaction));
    expect(message).toMatch(/^the identity provider refused the sign-in: invalid_grant/);
  });

  it('refuses a missing, altered or expired sign-in cookie, saying to sign in again', async () => {
    let clock = Date.now();
    const { auth } = await setUp({}, () => clock);
    const { callback, transaction } = await answerFor(auth, 'ada');
    expect(await failure(auth.completeProviderSignIn(callback, null))).toMatch(/no sign-in in progress .*sign in again$/);
    const altered = `${transaction.slice(0, 20)}${transaction[20] === 'A' ? 'B' : 'A'}${transaction.slice(21)}`;
    expect(await failure(auth.completeProviderSignIn(callback, altered))).toMatch(/not made by this portal .*sign in again$/);
    clock += 11 * 60 * 1000;
    expect(await failure(auth.completeProviderSignIn(callback, transaction))).toMatch(/took longer than 10 minutes; sign in again$/);
  });

  it('tells the learner when the provider refused the sign-in', async () => {
    const { auth } = await setUp();
    const { location, transaction } = await auth.beginProviderSignIn('/');
    const state = new URL(location).searchParams.get('state')!;
    const denied = new URL(`${CALLBACK}?${new URLSearchParams({ error: 'access_denied', error_description: 'End-User aborted interaction', state })}`);
    expect(await failure(auth.completeProviderSignIn(denied, transaction))).toBe(
      'the identity provider refused the sign-in: access_denied (End-User aborted interaction)',
    );
  });

  it('names OIDC_ISSUER and the reason when the provider cannot be reached', async () => {
    const port = await freePort();
    const { auth } = await setUp({ OIDC_ISSUER: `http://127.0.0.1:${port}` });
    const message = await failure(auth.beginProviderSignIn('/'));
    expect(message).toMatch(new RegExp(`^OIDC_ISSUER: could not reach the identity provider at http://127\\.0\\.0\\.1:${port} \\(.*ECONNREFUSED.*\\); check that the address is right`));
  });

  it('in AUTH=dev there is no provider to sign in through', async () => {
    const db = openDatabase(await databases.fresh('sqlite'), captureLogs().log);
    open.push(db);
    const auth = createAuth({ mode: 'dev' }, { sessions: createSessions(db), secret: 'x'.repeat(32), log: captureLogs().log });
    expect(await failure(auth.beginProviderSignIn('/'))).toMatch(/AUTH=dev: sign in with your name/);
  });
});

describe('signing out', () => {
  it('ends the session and sends the browser to the provider’s sign-out with the ID token as hint', async () => {
    const { auth, sessions } = await setUp();
    const { callback, transaction } = await answerFor(auth, 'ada');
    const { token } = await auth.completeProviderSignIn(callback, transaction);
    const { location } = await auth.signOut(token);
    expect(await sessions.resolve(token)).toBeNull();
    const logout = new URL(location!);
    expect(logout.origin + logout.pathname).toBe(`${provider.issuer}/session/end`);
    expect(logout.searchParams.get('post_logout_redirect_uri')).toBe(`${PORTAL}/`);
    expect(logout.searchParams.get('client_id')).toBe(provider.clientId);
    expect(logout.searchParams.get('id_token_hint')?.split('.')).toHaveLength(3);
    // Nothing to end here: nothing to end at the provider either.
    expect(await auth.signOut(token)).toEqual({ location: null });
    expect(await auth.signOut(null)).toEqual({ location: null });
  });
});
