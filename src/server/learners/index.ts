// Learners: who is signed in (sessions, AUTH=dev) and how far they got (lesson progress).

export { createSessions, SESSION_LIFETIME_MS } from './sessions.ts';
export type { ProviderIdentity, Sessions, SignedIn, SignInOptions } from './sessions.ts';
export { createProgress, markLesson } from './progress.ts';
export type { Progress } from './progress.ts';
export { checkSlug, LearnerInputError, MAX_NAME_LENGTH } from './names.ts';
