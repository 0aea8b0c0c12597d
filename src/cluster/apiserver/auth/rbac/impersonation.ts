// User impersonation (kubectl --as / --as-group, Impersonate-* headers), after the API server's
// impersonation filter: each requested identity is its own "impersonate" check on users, groups,
// serviceaccounts, userextras/<key> or uids, and the first denial answers 403.
import { statusErrors } from '../../../types.ts';
import { authorize } from './authorizer.ts';
import { forbiddenError } from './messages.ts';
import { anonymousUser, authenticatedGroup, serviceAccountGroups, serviceAccountUsername, splitServiceAccountUsername } from './subjects.ts';
import type { AuthorizationAttributes, RbacSource, UserInfo } from './types.ts';

export interface ImpersonationRequest {
  /** Impersonate-User; a system:serviceaccount:<ns>:<name> name is checked against serviceaccounts */
  user?: string;
  /** Impersonate-Group, repeatable */
  groups?: string[];
  /** Impersonate-Uid */
  uid?: string;
  /** Impersonate-Extra-<key> headers, keys lower-cased and unescaped */
  extra?: Record<string, string[]>;
}

type HeaderValue = string | string[] | undefined;

const values = (value: HeaderValue): string[] => (value === undefined ? [] : Array.isArray(value) ? value : [value]);

/** Reads the Impersonate-* headers (Node lower-cases names); undefined when the request impersonates no one. */
export function impersonationFromHeaders(headers: Record<string, HeaderValue>): ImpersonationRequest | undefined {
  const request: ImpersonationRequest = {};
  const user = values(headers['impersonate-user'])[0];
  if (user) request.user = user;
  const groups = values(headers['impersonate-group']);
  if (groups.length > 0) request.groups = groups;
  const uid = values(headers['impersonate-uid'])[0];
  if (uid) request.uid = uid;
  for (const [name, value] of Object.entries(headers)) {
    if (!name.startsWith('impersonate-extra-')) continue;
    let key = name.slice('impersonate-extra-'.length).toLowerCase();
    try {
      key = decodeURIComponent(key);
    } catch {
      // an undecodable key is used as sent
    }
    request.extra ??= {};
    request.extra[key] = [...(request.extra[key] ?? []), ...values(value)];
  }
  return Object.keys(request).length > 0 ? request : undefined;
}

function check(requestor: UserInfo, attributes: Omit<AuthorizationAttributes, 'user' | 'resourceRequest' | 'path' | 'subresource' | 'namespace'> & { subresource?: string; namespace?: string }, source: RbacSource): void {
  const full: AuthorizationAttributes = { user: requestor, resourceRequest: true, path: '', subresource: '', namespace: '', ...attributes };
  const decision = authorize(full, source);
  if (!decision.allowed) throw forbiddenError(full, decision.reason);
}

/**
 * The identity a request acts as after impersonation. Throws a 403 StatusError naming the first
 * identity the requestor may not impersonate, or a 400 when groups, extra or uid come without a user.
 */
export function impersonate(requestor: UserInfo, request: ImpersonationRequest, source: RbacSource): UserInfo {
  const groups = request.groups ?? [];
  const extraEntries = Object.entries(request.extra ?? {});
  if (!request.user) {
    throw statusErrors.badRequest(`requested impersonation of groups, extra or uid without impersonating a user (Impersonate-User is required)`);
  }
  let username = request.user;
  let effectiveGroups = [...groups];
  const serviceAccount = splitServiceAccountUsername(request.user);
  if (serviceAccount) {
    check(requestor, { verb: 'impersonate', apiGroup: '', resource: 'serviceaccounts', namespace: serviceAccount.namespace, name: serviceAccount.name }, source);
    username = serviceAccountUsername(serviceAccount.namespace, serviceAccount.name);
    if (groups.length === 0) effectiveGroups = serviceAccountGroups(serviceAccount.namespace).filter((g) => g !== authenticatedGroup);
  } else {
    check(requestor, { verb: 'impersonate', apiGroup: '', resource: 'users', name: request.user }, source);
  }
  for (const group of groups) check(requestor, { verb: 'impersonate', apiGroup: '', resource: 'groups', name: group }, source);
  const extra: Record<string, string[]> = {};
  for (const [key, list] of extraEntries) {
    for (const value of list) check(requestor, { verb: 'impersonate', apiGroup: 'authentication.k8s.io', resource: 'userextras', subresource: key, name: value }, source);
    extra[key] = list;
  }
  if (request.uid) check(requestor, { verb: 'impersonate', apiGroup: 'authentication.k8s.io', resource: 'uids', name: request.uid }, source);
  if (username !== anonymousUser && !effectiveGroups.includes(authenticatedGroup)) effectiveGroups.push(authenticatedGroup);
  const user: UserInfo = { username, groups: effectiveGroups };
  if (request.uid) user.uid = request.uid;
  if (extraEntries.length > 0) user.extra = extra;
  return user;
}
