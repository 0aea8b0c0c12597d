// The create-only virtual resources that answer questions instead of storing objects:
// access reviews (kubectl auth can-i), rules reviews (can-i --list), token reviews, self
// subject reviews (kubectl auth whoami) and TokenRequests (kubectl create token).
import { statusErrors, type KubeObject } from '../types.ts';
import type { ResourceDefinition, UserInfo } from '../registry/index.ts';
import type { AuthorizationAttributes } from './auth/index.ts';
import { isPlainObject, readBody } from './body.ts';
import type { ApiContext, RequestScope } from './context.ts';
import { decodeObject } from './decode.ts';
import { defaultExpirationSeconds, type BoundObjectReference } from './auth/index.ts';
import { findObject } from './find.ts';
import { dryRunFrom } from './options.ts';
import { reply, representationFor } from './resources.ts';

type ReviewHandler = (ctx: ApiContext, scope: RequestScope, object: KubeObject, def: ResourceDefinition) => KubeObject;

const reviewHandlers: Record<string, ReviewHandler> = {
  'authorization.k8s.io/selfsubjectaccessreviews': (ctx, scope, review) => accessReview(ctx, scope, review, scope.user, 'SelfSubjectAccessReview'),
  'authorization.k8s.io/subjectaccessreviews': (ctx, scope, review) => accessReview(ctx, scope, review, subjectFromSpec(review, 'SubjectAccessReview'), 'SubjectAccessReview'),
  'authorization.k8s.io/localsubjectaccessreviews': (ctx, scope, review) => {
    const attributes = record(record(review['spec'])['resourceAttributes']);
    if (attributes['namespace'] !== undefined && attributes['namespace'] !== scope.info.namespace) {
      throw statusErrors.invalid('LocalSubjectAccessReview', 'authorization.k8s.io', '', [
        { field: 'spec.resourceAttributes.namespace', message: `Invalid value: "${String(attributes['namespace'])}": must match metadata.namespace`, reason: 'FieldValueInvalid' },
      ]);
    }
    return accessReview(ctx, scope, review, subjectFromSpec(review, 'LocalSubjectAccessReview'), 'LocalSubjectAccessReview');
  },
  'authorization.k8s.io/selfsubjectrulesreviews': (ctx, scope, review) => {
    const namespace = record(review['spec'])['namespace'];
    if (typeof namespace !== 'string' || namespace === '') {
      throw statusErrors.invalid('SelfSubjectRulesReview', 'authorization.k8s.io', '', [{ field: 'spec.namespace', message: 'Required value', reason: 'FieldValueRequired' }]);
    }
    return { ...review, metadata: reviewMetadata(review), status: ctx.authorizer.rulesReview(scope.user, namespace) };
  },
  'authentication.k8s.io/tokenreviews': (ctx, _scope, review) => {
    const spec = record(review['spec']);
    const token = spec['token'];
    if (typeof token !== 'string' || token === '') {
      throw statusErrors.invalid('TokenReview', 'authentication.k8s.io', '', [{ field: 'spec.token', message: 'Required value', reason: 'FieldValueRequired' }]);
    }
    const authenticated = ctx.authenticator.authenticateToken(token, stringList(spec['audiences']));
    const status = authenticated
      ? { authenticated: true, user: userInfoJson(authenticated.user), audiences: authenticated.audiences }
      : { user: {}, error: '[invalid bearer token, token lookup failed]' };
    return { ...review, metadata: reviewMetadata(review), status };
  },
  'authentication.k8s.io/selfsubjectreviews': (_ctx, scope, review) => ({ ...review, metadata: reviewMetadata(review), status: { userInfo: userInfoJson(scope.user) } }),
};

function record(value: unknown): Record<string, unknown> {
  return isPlainObject(value) ? value : {};
}

function reviewMetadata(review: KubeObject): KubeObject['metadata'] {
  return { ...review.metadata, creationTimestamp: null } as unknown as KubeObject['metadata'];
}

function userInfoJson(user: UserInfo): Record<string, unknown> {
  return { username: user.username, ...(user.uid ? { uid: user.uid } : {}), groups: user.groups, ...(user.extra ? { extra: user.extra } : {}) };
}

function stringList(value: unknown): string[] {
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : [];
}

function subjectFromSpec(review: KubeObject, kind: string): UserInfo {
  const spec = record(review['spec']);
  const username = typeof spec['user'] === 'string' ? spec['user'] : '';
  const groups = stringList(spec['groups']);
  if (username === '' && groups.length === 0) {
    throw statusErrors.invalid(kind, 'authorization.k8s.io', '', [{ field: 'spec.user', message: 'Invalid value: "": at least one of user or group must be specified', reason: 'FieldValueInvalid' }]);
  }
  const extra: Record<string, string[]> = {};
  for (const [key, values] of Object.entries(record(spec['extra']))) extra[key] = stringList(values);
  return { username, groups, ...(typeof spec['uid'] === 'string' ? { uid: spec['uid'] } : {}), ...(Object.keys(extra).length > 0 ? { extra } : {}) };
}

function accessReview(ctx: ApiContext, scope: RequestScope, review: KubeObject, user: UserInfo, kind: string): KubeObject {
  const spec = record(review['spec']);
  const resource = spec['resourceAttributes'];
  const nonResource = spec['nonResourceAttributes'];
  if ((resource === undefined || resource === null) === (nonResource === undefined || nonResource === null)) {
    throw statusErrors.invalid(kind, 'authorization.k8s.io', '', [
      { field: 'spec.resourceAttributes', message: 'Invalid value: "null": exactly one of nonResourceAttributes or resourceAttributes must be specified', reason: 'FieldValueInvalid' },
    ]);
  }
  const text = (source: Record<string, unknown>, key: string) => (typeof source[key] === 'string' ? (source[key] as string) : '');
  let attributes: AuthorizationAttributes;
  if (resource !== undefined && resource !== null) {
    const r = record(resource);
    attributes = {
      user,
      verb: text(r, 'verb'),
      resourceRequest: true,
      path: '',
      namespace: kind === 'LocalSubjectAccessReview' ? scope.info.namespace : text(r, 'namespace'),
      apiGroup: text(r, 'group'),
      apiVersion: text(r, 'version'),
      resource: text(r, 'resource'),
      subresource: text(r, 'subresource'),
      name: text(r, 'name'),
    };
  } else {
    const r = record(nonResource);
    attributes = { user, verb: text(r, 'verb'), resourceRequest: false, path: text(r, 'path'), namespace: '', apiGroup: '', apiVersion: '', resource: '', subresource: '', name: '' };
  }
  const decision = ctx.authorizer.authorize(attributes);
  const status: Record<string, unknown> = { allowed: decision.allowed };
  if (decision.reason) status['reason'] = decision.reason;
  return { ...review, metadata: reviewMetadata(review), status };
}

export function isReviewResource(def: ResourceDefinition): boolean {
  return `${def.group}/${def.resource}` in reviewHandlers;
}

export async function createReview(ctx: ApiContext, scope: RequestScope, def: ResourceDefinition): Promise<void> {
  const handler = reviewHandlers[`${def.group}/${def.resource}`];
  if (!handler) throw statusErrors.methodNotSupported(def, 'create');
  const representation = representationFor(scope);
  dryRunFrom('CreateOptions', scope.query.getAll('dryRun'));
  const review = await decodeObject(await readBody(scope.req), scope.req.headers['content-type'], def);
  reply(scope, 201, handler(ctx, scope, review, def), representation);
}

/** Limits of TokenRequest.spec.expirationSeconds (kube-apiserver's). */
const tokenExpiration = { min: 600, max: 2 ** 32 } as const;

/** POST serviceaccounts/<name>/token → a TokenRequest whose status carries a fresh token. */
export async function createTokenRequest(ctx: ApiContext, scope: RequestScope, def: ResourceDefinition): Promise<void> {
  const representation = representationFor(scope);
  const dryRun = dryRunFrom('CreateOptions', scope.query.getAll('dryRun'));
  const request = await decodeObject(await readBody(scope.req), scope.req.headers['content-type'], { group: 'authentication.k8s.io', version: 'v1', kind: 'TokenRequest' });
  const account = ctx.registry.get(def, scope.info.namespace, scope.info.name);
  const spec = record(request['spec']);
  const expirationSeconds = spec['expirationSeconds'] ?? defaultExpirationSeconds;
  const invalid = (field: string, message: string) => statusErrors.invalid('TokenRequest', 'authentication.k8s.io', scope.info.name, [{ field, message, reason: 'FieldValueInvalid' }]);
  if (typeof expirationSeconds !== 'number' || !Number.isInteger(expirationSeconds)) throw invalid('spec.expirationSeconds', `Invalid value: ${JSON.stringify(expirationSeconds)}: must be an integer`);
  if (expirationSeconds < tokenExpiration.min) throw invalid('spec.expirationSeconds', `Invalid value: ${expirationSeconds}: may not specify a duration less than 10 minutes`);
  if (expirationSeconds > tokenExpiration.max) throw invalid('spec.expirationSeconds', `Invalid value: ${expirationSeconds}: may not specify a duration larger than 2^32 seconds`);
  const audiences = stringList(spec['audiences']);
  const boundRef = record(spec['boundObjectRef']);
  let boundObject: BoundObjectReference | undefined;
  if (Object.keys(boundRef).length > 0) {
    const kind = boundRef['kind'];
    const boundName = typeof boundRef['name'] === 'string' ? boundRef['name'] : '';
    if (kind !== 'Pod' && kind !== 'Secret') throw invalid('spec.boundObjectRef.kind', `Unsupported value: ${JSON.stringify(kind)}: supported values: "Pod", "Secret"`);
    const resource = kind === 'Pod' ? 'pods' : 'secrets';
    const boundDef = ctx.registry.lookup('', 'v1', resource);
    if (!boundDef) throw invalid('spec.boundObjectRef.kind', `${kind} is not served`);
    const target = ctx.registry.get(boundDef, scope.info.namespace, boundName);
    const uid = target.metadata.uid ?? '';
    if (typeof boundRef['uid'] === 'string' && boundRef['uid'] !== '' && boundRef['uid'] !== uid) {
      throw statusErrors.conflict({ group: '', resource }, boundName, `the UID in the bound object reference (${boundRef['uid']}) does not match the UID in record. The object might have been deleted and then recreated`);
    }
    boundObject = { kind, name: boundName, uid, ...nodeOf(ctx, kind === 'Pod' ? target : undefined) };
  }
  const now = ctx.clock();
  const issued = dryRun
    ? { token: '', expirationTimestamp: new Date(now.getTime() + expirationSeconds * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z') }
    : ctx.tokens.issueServiceAccountToken({
        namespace: scope.info.namespace,
        serviceAccountName: scope.info.name,
        serviceAccountUid: account.metadata.uid ?? '',
        expirationSeconds,
        now,
        ...(audiences.length > 0 ? { audiences } : {}),
        ...(boundObject ? { boundObject } : {}),
      });
  reply(
    scope,
    201,
    {
      kind: 'TokenRequest',
      apiVersion: 'authentication.k8s.io/v1',
      metadata: { name: scope.info.name, namespace: scope.info.namespace, creationTimestamp: now.toISOString().replace(/\.\d{3}Z$/, 'Z') },
      spec: { audiences: audiences.length > 0 ? audiences : [ctx.tokens.issuer], expirationSeconds, boundObjectRef: Object.keys(boundRef).length > 0 ? boundRef : null },
      status: issued,
    },
    representation,
  );
}

/** The node a bound pod runs on, recorded in its tokens as kube-apiserver does. */
function nodeOf(ctx: ApiContext, pod: KubeObject | undefined): { nodeName?: string; nodeUid?: string } {
  const nodeName = record(pod?.['spec'])['nodeName'];
  const nodes = ctx.registry.lookup('', 'v1', 'nodes');
  if (typeof nodeName !== 'string' || nodeName === '' || !nodes) return {};
  const node = findObject(ctx.registry, nodes, undefined, nodeName);
  return node ? { nodeName, nodeUid: node.metadata.uid ?? '' } : {};
}
