// The RBAC authorizer (plugin/pkg/auth/authorizer/rbac): walk the ClusterRoleBindings, then the
// RoleBindings of the request's namespace; a binding whose subjects include the user contributes
// its role's rules; the first rule that covers the request allows it. RBAC never denies: no
// matching rule means no opinion, which the API server turns into 403.
import type { KubeObject } from '../../../types.ts';
import { effectiveRules } from './aggregation.ts';
import { ruleAllows } from './rules.ts';
import { describeSubject, mastersGroup, subjectMatches } from './subjects.ts';
import { bindingSchema, roleSchema, type AuthorizationAttributes, type AuthorizationDecision, type Binding, type PolicyRule, type RbacSource, type Role, type RulesReview, type UserInfo } from './types.ts';

function parseRoles(objects: KubeObject[]): Role[] {
  const roles: Role[] = [];
  for (const object of objects) {
    const parsed = roleSchema.safeParse(object);
    if (parsed.success) roles.push(parsed.data);
  }
  return roles;
}

function parseBindings(objects: KubeObject[]): Binding[] {
  const bindings: Binding[] = [];
  for (const object of objects) {
    const parsed = bindingSchema.safeParse(object);
    if (parsed.success) bindings.push(parsed.data);
  }
  return bindings;
}

/**
 * How a missing role is reported: the authorizer reads through listers (`role.rbac…` not found),
 * the escalation check through the registry (`roles.rbac…`, a 404 Status when it is the answer).
 */
export type RoleNotFound = (resource: 'roles' | 'clusterroles', name: string) => Error;

const listerNotFound: RoleNotFound = (resource, name) => new Error(`${resource.slice(0, -1)}.rbac.authorization.k8s.io ${JSON.stringify(name)} not found`);

/** Resolves roleRefs against one snapshot of the source, so aggregation is computed at most once per role. */
export class RoleResolver {
  readonly #source: RbacSource;
  readonly #notFound: RoleNotFound;
  #clusterRoles: Role[] | undefined;
  readonly #clusterRoleRules = new Map<string, PolicyRule[]>();
  readonly #roles = new Map<string, Role[]>();

  constructor(source: RbacSource, notFound: RoleNotFound = listerNotFound) {
    this.#source = source;
    this.#notFound = notFound;
  }

  #allClusterRoles(): Role[] {
    this.#clusterRoles ??= parseRoles(this.#source.clusterRoles());
    return this.#clusterRoles;
  }

  /** GetRoleReferenceRules: a Role is looked up in the binding's namespace, a ClusterRole cluster-wide. */
  rules(binding: Pick<Binding, 'roleRef'>, bindingNamespace: string): PolicyRule[] {
    const { kind, name } = binding.roleRef;
    if (kind === 'ClusterRole') {
      const cached = this.#clusterRoleRules.get(name);
      if (cached) return cached;
      const all = this.#allClusterRoles();
      const role = all.find((r) => r.metadata.name === name);
      if (!role) throw this.#notFound('clusterroles', name);
      const rules = effectiveRules(role, all);
      this.#clusterRoleRules.set(name, rules);
      return rules;
    }
    if (kind === 'Role') {
      let roles = this.#roles.get(bindingNamespace);
      if (!roles) {
        roles = parseRoles(this.#source.roles(bindingNamespace));
        this.#roles.set(bindingNamespace, roles);
      }
      const role = roles.find((r) => r.metadata.name === name);
      if (!role) throw this.#notFound('roles', name);
      return role.rules ?? [];
    }
    throw new Error(`unsupported role reference kind: ${JSON.stringify(kind)}`);
  }
}

type Visitor = (source: () => string, rule: PolicyRule) => boolean;

/**
 * VisitRulesFor: every rule granted to the user in the namespace ("" = cluster scope only), with
 * a description of the binding that grants it. Returns the errors of unresolvable roleRefs.
 * The visitor returns false to stop.
 */
function visitRulesFor(user: UserInfo, namespace: string, source: RbacSource, visit: Visitor, resolver = new RoleResolver(source)): string[] {
  const errors: string[] = [];
  const walk = (bindings: Binding[], describe: (b: Binding, subjectText: string) => string, bindingNamespace: string): boolean => {
    for (const binding of bindings) {
      const subject = (binding.subjects ?? []).find((s) => subjectMatches(user, s, bindingNamespace));
      if (!subject) continue;
      let rules: PolicyRule[];
      try {
        rules = resolver.rules(binding, bindingNamespace);
      } catch (error) {
        errors.push((error as Error).message);
        continue;
      }
      const text = (): string => describe(binding, describeSubject(subject, bindingNamespace));
      for (const rule of rules) {
        if (!visit(text, rule)) return false;
      }
    }
    return true;
  };
  const clusterWide = walk(parseBindings(source.clusterRoleBindings()), (b, s) => `ClusterRoleBinding ${JSON.stringify(b.metadata.name)} of ${b.roleRef.kind} ${JSON.stringify(b.roleRef.name)} to ${s}`, '');
  if (clusterWide && namespace !== '') {
    walk(parseBindings(source.roleBindings(namespace)), (b, s) => `RoleBinding ${JSON.stringify(`${b.metadata.name}/${namespace}`)} of ${b.roleRef.kind} ${JSON.stringify(b.roleRef.name)} to ${s}`, namespace);
  }
  return errors;
}

/** RulesFor: every rule the user holds in the namespace, and the errors of roleRefs that did not resolve. */
export function rulesFor(user: UserInfo, namespace: string, source: RbacSource, resolver: RoleResolver): { rules: PolicyRule[]; errors: string[] } {
  const rules: PolicyRule[] = [];
  const errors = visitRulesFor(user, namespace, source, (_describe, rule) => rules.push(rule) > 0, resolver);
  return { rules, errors };
}

/** utilerrors.NewAggregate(...).Error(): one message alone, several in brackets. */
export function aggregateErrors(errors: string[]): string {
  return errors.length === 1 ? (errors[0] ?? '') : `[${errors.join(', ')}]`;
}

/**
 * The API server's authorizer chain as this cluster runs it: members of system:masters may do
 * anything (the privileged-group authorizer), everyone else is decided by RBAC.
 */
export function authorize(attributes: AuthorizationAttributes, source: RbacSource): AuthorizationDecision {
  if (attributes.user.groups.includes(mastersGroup)) return { allowed: true, reason: '' };
  let reason = '';
  const errors = visitRulesFor(attributes.user, attributes.namespace, source, (describe, rule) => {
    if (!ruleAllows(attributes, rule)) return true;
    reason = `RBAC: allowed by ${describe()}`;
    return false;
  });
  if (reason) return { allowed: true, reason };
  return { allowed: false, reason: errors.length > 0 ? `RBAC: ${aggregateErrors(errors)}` : '' };
}

/** What a SelfSubjectRulesReview answers: every rule granted in the namespace, split by kind. */
export function rulesReview(user: UserInfo, namespace: string, source: RbacSource): RulesReview {
  const review: RulesReview = { resourceRules: [], nonResourceRules: [], incomplete: false };
  const errors = visitRulesFor(user, namespace, source, (_describe, rule) => {
    if (rule.resources && rule.resources.length > 0) {
      review.resourceRules.push({
        verbs: rule.verbs,
        ...(rule.apiGroups && rule.apiGroups.length > 0 ? { apiGroups: rule.apiGroups } : {}),
        resources: rule.resources,
        ...(rule.resourceNames && rule.resourceNames.length > 0 ? { resourceNames: rule.resourceNames } : {}),
      });
    }
    if (rule.nonResourceURLs && rule.nonResourceURLs.length > 0) review.nonResourceRules.push({ verbs: rule.verbs, nonResourceURLs: rule.nonResourceURLs });
    return true;
  });
  if (errors.length > 0) review.evaluationError = aggregateErrors(errors);
  return review;
}
