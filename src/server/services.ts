// What the pages and API routes may ask of the runtime. main.ts builds one PortalServices and
// passes it to Astro's handler as `locals.services`, together with the signed-in learner.

import type { Learner, LessonProgress, Role } from '../contracts/index.ts';
import type { LabSessions } from './labs/service.ts';
import type { LearningServices } from './learning/index.ts';
import type { Workshops } from './workshops/index.ts';

export { ROLES } from '../contracts/index.ts';
export type { Learner, LessonProgress, Role } from '../contracts/index.ts';

/** Who the identity provider says signed in (AUTH=oidc), with the roles their groups grant. */
export interface ProviderIdentity {
  issuer: string;
  subject: string;
  name: string;
  email: string | null;
  groups: string[];
  roles: Role[];
  /** Kept with the session, to sign out at the provider too (id_token_hint). */
  idToken: string | null;
}

export interface SignedIn {
  /** The session token to put in the cookie. */
  token: string;
  learner: Learner;
}

export interface SignInOptions {
  /** The session this browser had: ended, so a sign-in always starts a fresh session. */
  replacing?: string | null;
}


export interface Sessions {
  /** AUTH=dev: sign in with a name, no password; `roles` replaces the learner's roles. */
  signIn(name: string, options?: SignInOptions & { roles?: readonly Role[] }): Promise<SignedIn>;
  /** AUTH=oidc: the learner of this identity, found or created, with name, email, groups and roles as given now. */
  signInWithProvider(identity: ProviderIdentity, options?: SignInOptions): Promise<SignedIn>;
  /** Ends the session; null when there was none. */
  signOut(token: string): Promise<{ idToken: string | null } | null>;
  resolve(token: string): Promise<Learner | null>;
}

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

export interface Progress {
  forLearner(learnerId: string): Promise<LessonProgress[]>;
  markViewed(learnerId: string, path: string, lesson: string): Promise<void>;
  markCompleted(learnerId: string, path: string, lesson: string): Promise<void>;
}

export interface PortalServices {
  sessions: Sessions;
  progress: Progress;
  auth: Auth;
  /** Lab sessions (start, check, hints, reset, end, the terminal's access); absent where the portal runs without labs. */
  labs?: LabSessions;
  /** Instructor-led workshops: create, join, the live dashboard, the instructor's actions. */
  workshops?: Workshops;
  /** The learning record (events, My learning, certificates), reports and xAPI downloads; absent where the portal runs without it. */
  learning?: LearningServices;
}
