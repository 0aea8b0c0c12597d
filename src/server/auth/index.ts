// Sign-in (AUTH=dev by name, AUTH=oidc through the identity provider) and its sessions, roles, the access table
// that says who may open which address, CSRF protection and the session cookie's policy.

export { createAuth } from './auth.ts';
export type { Auth } from './auth.ts';
export type { AuthParts } from './auth.ts';
export { ACCESS_RULES, AccessPolicy } from './access.ts';
export type { AccessRule } from './access.ts';
export { ACCESS_LEVELS, allows, hasRole, refusalFor, rolesOfGroups } from './roles.ts';
export type { Access, GroupRoles } from './roles.ts';
export { Gate, answerRefusal, wantsJson } from './gate.ts';
export type { GateOptions, Refusal, RequestSession } from './gate.ts';
export { CSRF_FIELD, CSRF_HEADER, FORM_BODY_LIMIT_BYTES } from './csrf.ts';
export { readCookie, SESSION_COOKIE, sessionCookie, sessionTokenOf, transactionCookie, TRANSACTION_COOKIE, TRANSACTION_LIFETIME_MS } from './cookies.ts';
export { isSignInError, SignInError } from './errors.ts';
export { safeReturnPath } from './paths.ts';
export { createSessions, SESSION_LIFETIME_MS } from './sessions.ts';
export type { ProviderIdentity, Sessions, SignedIn, SignInOptions } from './sessions.ts';
export { LearnerInputError, MAX_NAME_LENGTH } from './names.ts';
