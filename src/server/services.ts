// What the pages and API routes may ask of the runtime. main.ts builds one PortalServices and
// passes it to Astro's handler as `locals.services`, together with the signed-in learner.

export interface Learner {
  id: string;
  name: string;
}

export interface LessonProgress {
  path: string;
  lesson: string;
  viewedAt: string | null;
  completedAt: string | null;
}

export interface Sessions {
  /** AUTH=dev: sign in with a name, no password. Returns the session token to put in the cookie. */
  signIn(name: string): Promise<{ token: string; learner: Learner }>;
  signOut(token: string): Promise<void>;
  resolve(token: string): Promise<Learner | null>;
}

export interface Progress {
  forLearner(learnerId: string): Promise<LessonProgress[]>;
  markViewed(learnerId: string, path: string, lesson: string): Promise<void>;
  markCompleted(learnerId: string, path: string, lesson: string): Promise<void>;
}

export interface PortalServices {
  sessions: Sessions;
  progress: Progress;
}

export const SESSION_COOKIE = 'formicary_session';
