// Who is asking and may they: client certificates the cluster CA signed (the CN is the user, each
// O a group, as kube-apiserver's x509 authenticator reads them), bearer tokens (the admin token,
// ServiceAccount JWTs from TokenRequests and from token Secrets), impersonation, and RBAC
// authorization over the registry's roles and bindings.
import { timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { TLSSocket } from 'node:tls';
import type { KubeObject } from '../../types.ts';
import { findObject } from '../find.ts';
import type { AdmissionPlugin, Registry, ResourceDefinition, UserInfo } from '../../registry/index.ts';
import {
  anonymousUser,
  authenticatedGroup,
  authorize as rbacAuthorize,
  forbiddenError,
  impersonate,
  impersonationFromHeaders,
  mastersGroup,
  unauthenticatedGroup,
  rulesReview as rbacRulesReview,
  type AuthorizationAttributes,
  type AuthorizationDecision,
  type RbacSource,
  type RulesReview,
  preventEscalation,
} from './rbac.ts';
import type { ServiceAccountTokenIdentity, ServiceAccountTokens } from './tokens.ts';

export type { AuthorizationAttributes, AuthorizationDecision, RulesReview };
export { anonymousUser, forbiddenError, mastersGroup, unauthenticatedGroup };
export { bootstrapClusterRoleBindings, bootstrapClusterRoles, bootstrapControllerRoleBindings, bootstrapControllerRoles, reconcileClusterRole, reconcileClusterRoleBinding, type Reconciliation } from './rbac.ts';
export { defaultExpirationSeconds, openServiceAccountTokens, type BoundObjectReference, type ServiceAccountTokens } from './tokens.ts';

export const adminUser: UserInfo = { username: 'kubernetes-admin', groups: [mastersGroup, authenticatedGroup] };

export interface Authentication {
  user: UserInfo;
  /** the audiences the credential is good for (TokenReview status.audiences) */
  audiences: string[];
}

export interface Authenticator {
  /** Who a bearer token belongs to, or undefined when it proves nothing (for `audiences`, default the API server's). */
  authenticateToken(token: string, audiences?: string[]): Authentication | undefined;
  /** The user behind a request's client certificate or Authorization header; undefined when it has neither or a bad one. */
  authenticate(req: IncomingMessage): UserInfo | undefined;
}

export function bearerToken(req: IncomingMessage): string | undefined {
  const header = req.headers.authorization;
  if (!header) return undefined;
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
  return match?.[1];
}

/** id-kp-clientAuth: a client certificate must allow it when it lists extended usages at all, as Go's verifier requires. */
const CLIENT_AUTH = '1.3.6.1.5.5.7.3.2';

/** The user a verified client certificate names; undefined without one, or when it has no CN (upstream then tries the other authenticators). */
export function certificateUser(req: IncomingMessage): UserInfo | undefined {
  const socket = req.socket as Partial<TLSSocket>;
  if (socket.authorized !== true || typeof socket.getPeerCertificate !== 'function') return undefined;
  const certificate = socket.getPeerCertificate();
  const usages = certificate.ext_key_usage;
  if (usages && usages.length > 0 && !usages.includes(CLIENT_AUTH)) return undefined;
  const values = (value: string | string[] | undefined) => (value === undefined ? [] : Array.isArray(value) ? value : [value]);
  const commonName = values(certificate.subject?.CN)[0] ?? '';
  if (commonName === '') return undefined;
  return { username: commonName, groups: [...values(certificate.subject?.O), authenticatedGroup] };
}

export function createAuthenticator(options: { adminToken: string; registry: Registry; tokens: ServiceAccountTokens; clock: () => Date }): Authenticator {
  const admin = Buffer.from(options.adminToken);
  const { registry, tokens } = options;
  const isAdmin = (token: string) => {
    const candidate = Buffer.from(token);
    return candidate.length === admin.length && timingSafeEqual(candidate, admin);
  };
  const find = (resource: string, namespace: string, name: string): KubeObject | undefined => {
    const def = registry.lookup('', 'v1', resource);
    return def && findObject(registry, def, namespace, name);
  };
  /** A ServiceAccount token counts only while what it was issued for still exists, with the same UID, as upstream checks. */
  const stillValid = (identity: ServiceAccountTokenIdentity, token: string): boolean => {
    const { namespace, name, uid } = identity.serviceAccount;
    const account = find('serviceaccounts', namespace, name);
    if (!account || account.metadata.deletionTimestamp || account.metadata.uid !== uid) return false;
    if (identity.kind === 'legacy') {
      const secret = find('secrets', namespace, identity.secretName ?? '');
      const data = secret?.['data'] as Record<string, unknown> | undefined;
      return data?.['token'] === Buffer.from(token).toString('base64');
    }
    if (identity.boundObject) {
      const bound = find(identity.boundObject.kind === 'Pod' ? 'pods' : 'secrets', namespace, identity.boundObject.name);
      if (!bound || bound.metadata.uid !== identity.boundObject.uid || bound.metadata.deletionTimestamp) return false;
    }
    return true;
  };
  const authenticateToken = (token: string, audiences?: string[]): Authentication | undefined => {
    const wanted = audiences && audiences.length > 0 ? audiences : [tokens.issuer];
    if (isAdmin(token)) return { user: adminUser, audiences: wanted };
    const identity = tokens.verifyServiceAccountToken(token, options.clock(), wanted);
    if (!identity || !stillValid(identity, token)) return undefined;
    return { user: identity.user, audiences: wanted };
  };
  return {
    authenticateToken,
    authenticate(req) {
      const fromCertificate = certificateUser(req);
      if (fromCertificate) return fromCertificate;
      const token = bearerToken(req);
      return token === undefined ? undefined : authenticateToken(token)?.user;
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

const sourcesByRegistry = new WeakMap<Registry, RbacSource>();

/** RBAC's answer for an admission plugin that must ask it (CertificateApproval, CertificateSigning). */
export function authorizedByRbac(registry: Registry, attributes: AuthorizationAttributes): boolean {
  let source = sourcesByRegistry.get(registry);
  if (!source) {
    source = registryRbacSource(registry);
    sourcesByRegistry.set(registry, source);
  }
  return rbacAuthorize(attributes, source).allowed;
}

const rbacResources = new Set(['roles', 'clusterroles', 'rolebindings', 'clusterrolebindings']);

/**
 * RBAC escalation prevention as the registry runs it. Upstream it is the roles' and bindings'
 * storage, not an admission plugin; it is hooked in as the last mutating step because that is
 * where upstream checks: after mutating admission, before validation. Writes without a user are
 * the cluster's own (controllers, bootstrap) and are not checked.
 */
export function rbacEscalationPrevention(): AdmissionPlugin {
  const sources = new WeakMap<Registry, RbacSource>();
  return {
    name: 'RBACEscalationPrevention',
    mutate(request) {
      const { definition, object, user } = request;
      if (!user || !object || request.subresource) return;
      if (request.operation !== 'CREATE' && request.operation !== 'UPDATE') return;
      if (definition.group !== 'rbac.authorization.k8s.io' || !rbacResources.has(definition.resource)) return;
      let source = sources.get(request.registry);
      if (!source) {
        source = registryRbacSource(request.registry);
        sources.set(request.registry, source);
      }
      preventEscalation(
        {
          operation: request.operation,
          resource: definition.resource,
          namespace: request.namespace ?? '',
          requestName: request.operation === 'CREATE' ? '' : request.name,
          object,
          oldObject: request.oldObject,
          user,
        },
        source,
      );
    },
  };
}
