// Who is asking and may they: bearer-token authentication (the admin token, ServiceAccount
// JWTs from TokenRequests and from token Secrets), impersonation, and RBAC authorization over
// the registry's roles and bindings.
import { timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { StatusError, type KubeObject } from '../../types.ts';
import type { Registry, ResourceDefinition, UserInfo } from '../../registry/index.ts';
import type { ServiceAccountClaims, TokenIssuer } from '../pending/tokens.ts';
import {
  authenticatedGroup,
  authorize as rbacAuthorize,
  forbiddenError,
  impersonate,
  impersonationFromHeaders,
  mastersGroup,
  rulesReview as rbacRulesReview,
  serviceAccountGroups,
  serviceAccountUsername,
  type AuthorizationAttributes,
  type AuthorizationDecision,
  type RbacSource,
  type RulesReview,
} from './rbac.ts';

export type { AuthorizationAttributes, AuthorizationDecision, RulesReview };
export { forbiddenError };
export { bootstrapClusterRoleBindings, bootstrapClusterRoles } from './rbac.ts';

export const adminUser: UserInfo = { username: 'kubernetes-admin', groups: [mastersGroup, authenticatedGroup] };

export interface Authenticator {
  /** The user a bearer token belongs to, or undefined when the token proves nothing. */
  authenticateToken(token: string): UserInfo | undefined;
  /** The user behind a request's Authorization header; undefined when it has none or a bad one. */
  authenticate(req: IncomingMessage): UserInfo | undefined;
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
  const find = (resource: string, namespace: string, name: string): KubeObject | undefined => {
    const def = registry.lookup('', 'v1', resource);
    if (!def) return undefined;
    try {
      return registry.get(def, namespace, name);
    } catch (error) {
      if (error instanceof StatusError && error.code === 404) return undefined;
      throw error;
    }
  };
  /** A ServiceAccount token counts only while what it was issued for still exists, as upstream checks. */
  const stillValid = (claims: ServiceAccountClaims, token: string): boolean => {
    const account = find('serviceaccounts', claims.namespace, claims.serviceAccountName);
    if (!account || account.metadata.deletionTimestamp) return false;
    if (claims.serviceAccountUid && account.metadata.uid !== claims.serviceAccountUid) return false;
    if (claims.secretName) {
      const secret = find('secrets', claims.namespace, claims.secretName);
      if (!secret) return false;
      // A legacy Secret token (no expiry) is only as good as the Secret that still holds it.
      const data = secret['data'] as Record<string, string> | undefined;
      if (claims.expiresAt === undefined && data?.['token'] !== Buffer.from(token).toString('base64')) return false;
    }
    if (claims.podName) {
      const pod = find('pods', claims.namespace, claims.podName);
      if (!pod || (claims.podUid && pod.metadata.uid !== claims.podUid)) return false;
    }
    return true;
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
      groups: serviceAccountGroups(claims.namespace),
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

/**
 * RBAC's view of the registry. The lists are remembered until the next write anywhere (the
 * resourceVersion moves), so a burst of reads authorizes without re-listing every binding.
 */
function registryRbacSource(registry: Registry): RbacSource {
  const rbac = (resource: string) => registry.lookup('rbac.authorization.k8s.io', 'v1', resource);
  let seenVersion = '';
  const memo = new Map<string, KubeObject[]>();
  const list = (def: ResourceDefinition | undefined, namespace?: string): KubeObject[] => {
    if (!def) return [];
    const version = registry.currentResourceVersion();
    if (version !== seenVersion) {
      memo.clear();
      seenVersion = version;
    }
    const key = `${def.resource}/${namespace ?? ''}`;
    let items = memo.get(key);
    if (!items) {
      items = registry.list(def, namespace === undefined ? {} : { namespace }).items;
      memo.set(key, items);
    }
    return items;
  };
  return {
    roles: (namespace) => list(rbac('roles'), namespace),
    roleBindings: (namespace) => list(rbac('rolebindings'), namespace),
    clusterRoles: () => list(rbac('clusterroles')),
    clusterRoleBindings: () => list(rbac('clusterrolebindings')),
  };
}

export interface Authorizer {
  authorize(attributes: AuthorizationAttributes): AuthorizationDecision;
  rulesReview(user: UserInfo, namespace: string): RulesReview;
  /** Applies Impersonate-* headers: each requested identity must be allowed to the real user with verb `impersonate`. */
  impersonate(req: IncomingMessage, user: UserInfo): UserInfo;
}

export function createAuthorizer(registry: Registry): Authorizer {
  const source = registryRbacSource(registry);
  return {
    authorize: (attributes) => rbacAuthorize(attributes, source),
    rulesReview: (user, namespace) => rbacRulesReview(user, namespace, source),
    impersonate(req, user) {
      const request = impersonationFromHeaders(req.headersDistinct);
      return request ? impersonate(user, request, source) : user;
    },
  };
}
