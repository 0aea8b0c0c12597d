// RBAC escalation prevention (pkg/registry/rbac/*/policybased and validation.ConfirmNoEscalation):
// a user may write a Role or ClusterRole only with rules it already holds, and bind a role only
// when it holds every rule of that role, unless RBAC grants it `escalate` on the role resource or
// `bind` on the role itself. Members of system:masters are exempt. As upstream, the check runs
// after mutating admission and before validation, on create and on every update that changes
// more than the fields the garbage collector writes.
import { StatusError, statusErrors, type KubeObject } from '../../../types.ts';
import { aggregateErrors, authorize, RoleResolver, rulesFor, type RoleNotFound } from './authorizer.ts';
import { mastersGroup } from './subjects.ts';
import { policyRuleSchema, roleRefSchema, type PolicyRule, type RbacSource, type RoleRef, type UserInfo } from './types.ts';

const RBAC_GROUP = 'rbac.authorization.k8s.io';

/** The roles' registry answers a missing role with a 404 Status naming the plural resource. */
const registryNotFound: RoleNotFound = (resource, name) => statusErrors.notFound({ group: RBAC_GROUP, resource }, name);

/** What the check needs to know about one write to an RBAC object. */
export interface RbacWrite {
  operation: 'CREATE' | 'UPDATE';
  /** roles | clusterroles | rolebindings | clusterrolebindings */
  resource: string;
  /** The request's namespace ("" for cluster-scoped objects). */
  namespace: string;
  /** The name on the request URL: empty for a create by POST. */
  requestName: string;
  object: KubeObject;
  oldObject: KubeObject | undefined;
  user: UserInfo;
}

/** Go's %q of a string: a double-quoted string with Go escapes. */
function goQuote(text: string): string {
  return JSON.stringify(text).replace(/\\u007f/g, '\\x7f');
}

/** Go's %q of a []string: `["a" "b"]`. */
function goQuoteList(values: string[]): string {
  return `[${values.map(goQuote).join(' ')}]`;
}

const has = (set: string[] | undefined, value: string): boolean => (set ?? []).includes(value);
const hasAll = (set: string[] | undefined, values: string[] | undefined): boolean => (values ?? []).every((v) => has(set, v));

/** BreakdownRule: one rule a verb × group × resource (× name), and one a verb × non-resource URL. */
function breakdown(rule: PolicyRule): PolicyRule[] {
  const out: PolicyRule[] = [];
  for (const group of rule.apiGroups ?? []) {
    for (const resource of rule.resources ?? []) {
      for (const verb of rule.verbs) {
        const names = rule.resourceNames ?? [];
        if (names.length > 0) for (const name of names) out.push({ apiGroups: [group], resources: [resource], verbs: [verb], resourceNames: [name] });
        else out.push({ apiGroups: [group], resources: [resource], verbs: [verb] });
      }
    }
  }
  for (const url of rule.nonResourceURLs ?? []) for (const verb of rule.verbs) out.push({ nonResourceURLs: [url], verbs: [verb] });
  return out;
}

function resourceCoversAll(owned: string[] | undefined, wanted: string[] | undefined): boolean {
  if (has(owned, '*') || hasAll(owned, wanted)) return true;
  for (const path of wanted ?? []) {
    if (has(owned, path)) continue;
    const slash = path.indexOf('/');
    if (slash < 0) return false;
    if (!has(owned, `*/${path.slice(slash + 1)}`)) return false;
  }
  return true;
}

function nonResourceURLCovers(owned: string, wanted: string): boolean {
  return owned === wanted || (owned.endsWith('*') && wanted.startsWith(owned.replace(/\*+$/, '')));
}

/** ruleCovers: the owner rule may hold many of each; the sub-rule at most one verb, resource and name. */
function ruleCovers(owner: PolicyRule, sub: PolicyRule): boolean {
  const verbs = has(owner.verbs, '*') || hasAll(owner.verbs, sub.verbs);
  const groups = has(owner.apiGroups, '*') || hasAll(owner.apiGroups, sub.apiGroups);
  const resources = resourceCoversAll(owner.resources, sub.resources);
  const urls = (sub.nonResourceURLs ?? []).every((url) => (owner.nonResourceURLs ?? []).some((o) => nonResourceURLCovers(o, url)));
  const ownerNames = owner.resourceNames ?? [];
  const names = (sub.resourceNames ?? []).length === 0 ? ownerNames.length === 0 : ownerNames.length === 0 || hasAll(ownerNames, sub.resourceNames);
  return verbs && groups && resources && names && urls;
}

/** Covers: the sub-rules of `wanted` that no rule of `owned` covers. */
export function uncoveredRules(owned: PolicyRule[], wanted: PolicyRule[]): PolicyRule[] {
  return wanted.flatMap(breakdown).filter((sub) => !owned.some((owner) => ruleCovers(owner, sub)));
}

/** CompactRules: sub-rules on one group/resource (and at most one name) that differ only by verb become one rule. */
function compact(rules: PolicyRule[]): PolicyRule[] {
  const out: PolicyRule[] = [];
  const simple = new Map<string, PolicyRule>();
  for (const rule of rules) {
    const names = rule.resourceNames ?? [];
    const isSimple = names.length <= 1 && (rule.nonResourceURLs ?? []).length === 0 && rule.apiGroups?.length === 1 && rule.resources?.length === 1;
    if (!isSimple) {
      out.push(rule);
      continue;
    }
    const key = JSON.stringify([rule.apiGroups, rule.resources, names]);
    const existing = simple.get(key);
    if (existing) existing.verbs = [...existing.verbs, ...rule.verbs];
    else simple.set(key, { ...rule, verbs: [...rule.verbs] });
  }
  return [...out, ...simple.values()];
}

/** rbacv1helpers.CompactString: `{APIGroups:["apps"], Resources:["deployments"], Verbs:["create"]}`. */
function compactString(rule: PolicyRule): string {
  const parts: string[] = [];
  if (rule.apiGroups?.length) parts.push(`APIGroups:${goQuoteList(rule.apiGroups)}`);
  if (rule.resources?.length) parts.push(`Resources:${goQuoteList(rule.resources)}`);
  if (rule.nonResourceURLs?.length) parts.push(`NonResourceURLs:${goQuoteList(rule.nonResourceURLs)}`);
  if (rule.resourceNames?.length) parts.push(`ResourceNames:${goQuoteList(rule.resourceNames)}`);
  if (rule.verbs.length) parts.push(`Verbs:${goQuoteList(rule.verbs)}`);
  return `{${parts.join(', ')}}`;
}

/**
 * ConfirmNoEscalation: undefined when the user holds every rule in `rules` in the namespace, else
 * the message naming the missing ones (sorted, one a line) and any roleRefs that did not resolve.
 */
function confirmNoEscalation(user: UserInfo, namespace: string, rules: PolicyRule[], source: RbacSource): string | undefined {
  const owned = rulesFor(user, namespace, source, new RoleResolver(source, registryNotFound));
  const missing = uncoveredRules(owned.rules, rules);
  if (missing.length === 0) return undefined;
  const descriptions = [...new Set(compact(missing).map(compactString))].sort();
  let message = `user ${goQuote(user.username)} (groups=${goQuoteList(user.groups)}) is attempting to grant RBAC permissions not currently held:\n${descriptions.join('\n')}`;
  if (owned.errors.length > 0) message += `; resolution errors: [${aggregateErrors(owned.errors)}]`;
  return message;
}

function parseRules(value: unknown): PolicyRule[] {
  if (!Array.isArray(value)) return [];
  return value.flatMap((raw) => {
    const parsed = policyRuleSchema.safeParse(raw);
    return parsed.success ? [parsed.data] : [];
  });
}

function hasAggregationRule(object: KubeObject | undefined): boolean {
  const selectors = (object?.aggregationRule as { clusterRoleSelectors?: unknown } | null | undefined)?.clusterRoleSelectors;
  return Array.isArray(selectors) && selectors.length > 0;
}

/** IsOnlyMutatingGCFields: nothing but ownerReferences and finalizers (and what the server keeps) changed. */
function onlyGarbageCollectorFields(object: KubeObject, old: KubeObject): boolean {
  const strip = (o: KubeObject): unknown => {
    const { ownerReferences: _o, finalizers: _f, managedFields: _m, resourceVersion: _r, uid: _u, creationTimestamp: _c, generation: _g, selfLink: _s, namespace: _n, ...metadata } = o.metadata;
    const { apiVersion: _a, kind: _k, ...rest } = o;
    return { ...rest, metadata };
  };
  return JSON.stringify(sortKeys(strip(object))) === JSON.stringify(sortKeys(strip(old)));
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (typeof value !== 'object' || value === null) return value;
  const record = value as Record<string, unknown>;
  return Object.fromEntries(Object.keys(record).sort().map((key) => [key, sortKeys(record[key])]));
}

const fullAuthority: PolicyRule[] = [
  { verbs: ['*'], apiGroups: ['*'], resources: ['*'] },
  { verbs: ['*'], nonResourceURLs: ['*'] },
];

function allowed(user: UserInfo, verb: string, resource: string, name: string, namespace: string, source: RbacSource, apiGroup = RBAC_GROUP): boolean {
  return authorize({ user, verb, resourceRequest: true, apiGroup, apiVersion: '*', resource, subresource: '', name, namespace, path: '' }, source).allowed;
}

function refused(resource: string, name: string, message: string): StatusError {
  return statusErrors.forbidden(`${resource}.${RBAC_GROUP} ${JSON.stringify(name)} is forbidden: ${message}`, { group: RBAC_GROUP, resource }, name);
}

function checkRole(write: RbacWrite, source: RbacSource): void {
  const { user, resource, object } = write;
  if (allowed(user, 'escalate', resource, write.requestName, write.namespace, source)) return;
  const name = object.metadata.name ?? '';
  const problem = confirmNoEscalation(user, write.namespace, parseRules(object.rules), source);
  if (problem) throw refused(resource, name, problem);
  if (resource !== 'clusterroles') return;
  // An aggregationRule can gather any rule there is, so writing one takes * on *.*.
  if (hasAggregationRule(object) || hasAggregationRule(write.oldObject)) {
    if (confirmNoEscalation(user, write.namespace, fullAuthority, source)) throw refused(resource, name, 'must have cluster-admin privileges to use the aggregationRule');
  }
}

function checkBinding(write: RbacWrite, source: RbacSource): void {
  const { user, resource, object, namespace } = write;
  const parsed = roleRefSchema.safeParse(object.roleRef);
  const roleRef: RoleRef = parsed.success ? parsed.data : { apiGroup: '', kind: '', name: '' };
  const roleResource = roleRef.kind === 'ClusterRole' ? 'clusterroles' : roleRef.kind === 'Role' ? 'roles' : undefined;
  if (roleResource && allowed(user, 'bind', roleResource, roleRef.name, namespace, source, roleRef.apiGroup ?? '')) return;
  if (!roleResource) {
    throw new StatusError({
      code: 500,
      reason: 'InternalError',
      message: `Internal error occurred: unsupported role reference kind: ${goQuote(roleRef.kind)}`,
      details: { causes: [{ message: `unsupported role reference kind: ${goQuote(roleRef.kind)}` }] },
    });
  }
  const rules = new RoleResolver(source, registryNotFound).rules({ roleRef }, namespace);
  const problem = confirmNoEscalation(user, namespace, rules, source);
  if (problem) throw refused(resource, object.metadata.name ?? '', problem);
}

/** Throws the Status upstream answers when `write` would grant its author more than it holds. */
export function preventEscalation(write: RbacWrite, source: RbacSource): void {
  if (write.user.groups.includes(mastersGroup)) return;
  if (write.operation === 'UPDATE' && write.oldObject && onlyGarbageCollectorFields(write.object, write.oldObject)) return;
  if (write.resource === 'roles' || write.resource === 'clusterroles') checkRole(write, source);
  else if (write.resource === 'rolebindings' || write.resource === 'clusterrolebindings') checkBinding(write, source);
}
