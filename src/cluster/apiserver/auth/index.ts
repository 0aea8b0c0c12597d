// Who is asking and may they: bearer-token authentication (the admin token, ServiceAccount
// JWTs from TokenRequests and from token Secrets), impersonation headers checked with the
// `impersonate` verb, and the Forbidden messages kube-apiserver prints.
import { timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { StatusError, statusErrors } from '../../types.ts';
import type { Registry, UserInfo } from '../../registry/index.ts';
import { authorize as rbacAuthorize, type AuthorizationAttributes, type Decision } from '../pending/rbac.ts';
import type { ServiceAccountClaims, TokenIssuer } from '../pending/tokens.ts';

export type { AuthorizationAttributes, Decision };

export const adminUser: UserInfo = { username: 'kubernetes-admin', groups: ['system:masters', 'system:authenticated'] };
export const anonymousUser: UserInfo = { username: 'system:anonymous', groups: ['system:unauthenticated'] };

export interface Authenticator {
  /** The user a bearer token belongs to, or undefined when the token proves nothing. */
  authenticateToken(token: string): UserInfo | undefined;
  /** The user behind a request's Authorization header; undefined when it has none or a bad one. */
  authenticate(req: IncomingMessage): UserInfo | undefined;
}

export function serviceAccountUsername(namespace: string, name: string): string {
  return `system:serviceaccount:${namespace}:${name}`;
}

export function serviceAccountGroups(namespace: string): string[] {
  return ['system:serviceaccounts', `system:serviceaccounts:${namespace}`];
}

/** "system:serviceaccount:ns:name" → {namespace, name} */
export function parseServiceAccountUsername(username: string): { namespace: string; name: string } | undefined {
  const match = /^system:serviceaccount:([^:]+):([^:]+)$/.exec(username);
  return match ? { namespace: match[1]!, name: match[2]! } : undefined;
}

export function bearerToken(req: IncomingMessage): string | undefined {
  const header = req.headers.authorization;
  if (!header) return undefined;
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
  return match?.[1];
}

export function createAuthenticator(options: { adminToken: string; registry: Registry; tokens: TokenIssuer; clock: () => Date }): Authenticator {
  const admin = Buffer.from(options.adminToken);
  const { registry } = options;
  const isAdmin = (token: string) => {
    const candidate = Buffer.from(token);
    return candidate.length === admin.length && timingSafeEqual(candidate, admin);
  };
  /** A ServiceAccount token counts only while what it was issued for still exists, as upstream checks. */
  const stillValid = (claims: ServiceAccountClaims, token: string): boolean => {
    const serviceAccounts = registry.lookup('', 'v1', 'serviceaccounts');
    if (!serviceAccounts) return false;
    try {
      const account = registry.get(serviceAccounts, claims.namespace, claims.serviceAccountName);
      if (claims.serviceAccountUid && account.metadata.uid !== claims.serviceAccountUid) return false;
      if (account.metadata.deletionTimestamp) return false;
      if (claims.secretName) {
        const secrets = registry.lookup('', 'v1', 'secrets');
        if (!secrets) return false;
        const secret = registry.get(secrets, claims.namespace, claims.secretName);
        // A legacy Secret token (no expiry) is only as good as the Secret that still holds it.
        const data = secret['data'] as Record<string, string> | undefined;
        if (claims.expiresAt === undefined && data?.['token'] !== Buffer.from(token).toString('base64')) return false;
      }
      if (claims.podName) {
        const pods = registry.lookup('', 'v1', 'pods');
        if (!pods) return false;
        const pod = registry.get(pods, claims.namespace, claims.podName);
        if (claims.podUid && pod.metadata.uid !== claims.podUid) return false;
      }
      return true;
    } catch (error) {
      if (error instanceof StatusError && error.code === 404) return false;
      throw error;
    }
  };
  const authenticateToken = (token: string): UserInfo | undefined => {
    if (isAdmin(token)) return adminUser;
    const claims = options.tokens.verify(token, options.clock());
    if (!claims || !stillValid(claims, token)) return undefined;
    const extra: Record<string, string[]> = {};
    if (claims.podName) extra['authentication.kubernetes.io/pod-name'] = [claims.podName];
    if (claims.podUid) extra['authentication.kubernetes.io/pod-uid'] = [claims.podUid];
    return {
      username: serviceAccountUsername(claims.namespace, claims.serviceAccountName),
      uid: claims.serviceAccountUid,
      groups: [...serviceAccountGroups(claims.namespace), 'system:authenticated'],
      ...(Object.keys(extra).length > 0 ? { extra } : {}),
    };
  };
  return {
    authenticateToken,
    authenticate(req) {
      const token = bearerToken(req);
      return token === undefined ? undefined : authenticateToken(token);
    },
  };
}

export type Authorize = (attributes: AuthorizationAttributes) => Decision;

export function createAuthorizer(): Authorize {
  return (attributes) => rbacAuthorize(attributes);
}

/** responsewriters.Forbidden + forbiddenMessage, word for word. */
export function forbidden(attributes: AuthorizationAttributes, reason: string): StatusError {
  const who = `User ${JSON.stringify(attributes.user.username)}`;
  let message: string;
  if (!attributes.isResourceRequest) {
    message = `${who} cannot ${attributes.verb} path ${JSON.stringify(attributes.path)}`;
  } else {
    const resource = attributes.subresource ? `${attributes.resource}/${attributes.subresource}` : attributes.resource;
    const scope = attributes.namespace ? `in the namespace ${JSON.stringify(attributes.namespace)}` : 'at the cluster scope';
    message = `${who} cannot ${attributes.verb} resource ${JSON.stringify(resource)} in API group ${JSON.stringify(attributes.apiGroup)} ${scope}`;
  }
  if (reason) message = `${message}: ${reason}`;
  const gr = { group: attributes.apiGroup, resource: attributes.resource };
  if (!attributes.isResourceRequest || attributes.resource === '') return statusErrors.forbidden(`forbidden: ${message}`);
  const qualified = gr.group === '' ? gr.resource : `${gr.resource}.${gr.group}`;
  const subject = attributes.name ? `${qualified} ${JSON.stringify(attributes.name)}` : qualified;
  return statusErrors.forbidden(`${subject} is forbidden: ${message}`, gr, attributes.name || undefined);
}

/** Header values as a list, whether sent once, repeated, or comma-joined by Node. */
function headerValues(req: IncomingMessage, name: string): string[] {
  const distinct = req.headersDistinct[name];
  return distinct ? distinct.map((value) => value.trim()) : [];
}

/**
 * Applies Impersonate-User/-Group/-Uid/-Extra-*: each requested attribute must be allowed to the
 * real user with verb `impersonate`, as kube-apiserver's impersonation filter checks.
 */
export function impersonate(req: IncomingMessage, user: UserInfo, authorize: Authorize): UserInfo {
  const [username, ...extraUsers] = headerValues(req, 'impersonate-user');
  const groups = headerValues(req, 'impersonate-group');
  const [uid] = headerValues(req, 'impersonate-uid');
  const extra: Record<string, string[]> = {};
  for (const [header, values] of Object.entries(req.headersDistinct)) {
    if (!header.startsWith('impersonate-extra-') || !values) continue;
    let key = header.slice('impersonate-extra-'.length);
    try {
      key = decodeURIComponent(key);
    } catch {
      throw statusErrors.badRequest(`invalid impersonation header ${header}: the key must be percent-encoded`);
    }
    extra[key] = values;
  }
  if (username === undefined) {
    if (groups.length > 0 || uid !== undefined || Object.keys(extra).length > 0) {
      throw statusErrors.badRequest('requested impersonation of groups, uid or extra without impersonating a user');
    }
    return user;
  }
  if (extraUsers.length > 0) throw statusErrors.badRequest('only one Impersonate-User header may be sent');

  const check = (attributes: Omit<AuthorizationAttributes, 'user' | 'verb' | 'isResourceRequest' | 'path' | 'apiVersion'>) => {
    const full: AuthorizationAttributes = { ...attributes, user, verb: 'impersonate', isResourceRequest: true, path: '', apiVersion: 'v1' };
    const decision = authorize(full);
    if (!decision.allowed) throw forbidden(full, decision.reason);
  };
  const serviceAccount = parseServiceAccountUsername(username);
  if (serviceAccount) check({ namespace: serviceAccount.namespace, apiGroup: '', resource: 'serviceaccounts', subresource: '', name: serviceAccount.name });
  else check({ namespace: '', apiGroup: '', resource: 'users', subresource: '', name: username });
  for (const group of groups) check({ namespace: '', apiGroup: '', resource: 'groups', subresource: '', name: group });
  if (uid !== undefined) check({ namespace: '', apiGroup: 'authentication.k8s.io', resource: 'uids', subresource: '', name: uid });
  for (const [key, values] of Object.entries(extra)) {
    for (const value of values) check({ namespace: '', apiGroup: 'authentication.k8s.io', resource: 'userextras', subresource: key, name: value });
  }

  const impersonatedGroups = [...groups];
  if (serviceAccount && groups.length === 0) impersonatedGroups.push(...serviceAccountGroups(serviceAccount.namespace));
  if (username === anonymousUser.username) {
    if (!impersonatedGroups.includes('system:unauthenticated')) impersonatedGroups.push('system:unauthenticated');
  } else if (!impersonatedGroups.includes('system:authenticated')) {
    impersonatedGroups.push('system:authenticated');
  }
  return {
    username,
    groups: impersonatedGroups,
    ...(uid !== undefined ? { uid } : {}),
    ...(Object.keys(extra).length > 0 ? { extra } : {}),
  };
}
